// Chunk-aware prefetch: zarr readers read an array's chunk files one after another, so when a
// chunk is read the next ones in C order are worth fetching at once, concurrently and coalesced.
//
// The next chunks are derived from the chunk grid in the array's .zarray and looked up by name,
// so no per-chunk state is kept. Per array, a window of chunks to read ahead grows fourfold while
// reads follow each other (64, 256, 1024) and drops to nothing after a jump, like the kernel's
// file readahead; the byte budget bounds it whatever the chunk size.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

class Prefetcher {
 public:
  // `budget_bytes` bounds what one read asks for ahead of itself; 0 turns prefetching off.
  Prefetcher(const refstore::RefStore& store, std::uint64_t budget_bytes);

  // The chunks to fetch along with `chunk`, which is being read: empty when there is nothing to
  // add (not a chunk of a known grid, random access, already asked for, or prefetch off).
  std::vector<refstore::NodeId> plan(refstore::NodeId chunk);

  static constexpr std::uint32_t kInitialWindow = 64;
  static constexpr std::uint32_t kGrowth = 4;
  static constexpr std::uint32_t kMaxWindow = 1024;

 private:
  struct Array {
    bool usable = false;
    std::vector<std::uint64_t> grid;  // chunks along each dimension
    std::uint64_t chunk_count = 0;
    std::optional<std::uint64_t> last;  // linear index of the chunk read last
    std::uint64_t asked_until = 0;      // chunks up to this one have been asked for already
    std::uint32_t window = 0;
  };
  Array load_array(refstore::NodeId directory) const;
  std::optional<std::uint64_t> linear_index(const Array& array, std::string_view name) const;
  std::string chunk_name(const Array& array, std::uint64_t index) const;

  const refstore::RefStore& store_;
  std::uint64_t budget_;
  std::mutex mutex_;
  std::unordered_map<refstore::NodeId, Array> arrays_;
};

}  // namespace kerchunkfs::daemon
