// A range of bytes in one object: what coalescing plans, what the scanner's remote reads ask for.
#pragma once

#include <cstdint>

namespace kerchunkfs::common {

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t end() const { return offset + length; }
  bool operator==(const ByteRange&) const = default;
};

}  // namespace kerchunkfs::common
