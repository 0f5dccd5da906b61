// Merging nearby byte ranges of one object into fewer requests, as fsspec does with max_gap and
// max_block: a pure planning step, so it is tested alone.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/byte_range.h"

namespace kerchunkfs::fetch {

using common::ByteRange;

struct MergedRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::vector<std::size_t> members;  // indexes into the input, in offset order
};

// Groups `ranges` (any order, of one object) into requests: two ranges join when the gap
// between them is at most `max_gap` bytes and the request stays within `max_block` bytes (a
// single range longer than that is a request of its own). Overlapping ranges join.
std::vector<MergedRange> coalesce(std::span<const ByteRange> ranges, std::uint64_t max_gap, std::uint64_t max_block);

}  // namespace kerchunkfs::fetch
