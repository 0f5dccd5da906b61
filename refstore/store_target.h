// Where a node's bytes are: the 16 bytes every node has (refstore/store_data.h).
#pragma once

#include <cstdint>

namespace kerchunkfs::refstore {

inline constexpr std::uint32_t kDirectoryTarget = 0xffffffff;
inline constexpr std::uint32_t kInlineTarget = 0xfffffffe;
inline constexpr std::uint32_t kMaxUrls = 0xfffffffd;
// Offsets and lengths are 48-bit (256 TiB); the largest value marks a whole-file reference.
inline constexpr std::uint64_t kMaxField = (std::uint64_t{1} << 48) - 1;
inline constexpr std::uint64_t kWholeFileLength = kMaxField;
// 16 bytes: a file's bytes (a URL's range, or a range of the inline arena), or a directory's
// children: a run of consecutive ids (first id in offset_low, kChildRun set) or a range of the
// `children` list, with their count as length.
struct Target {
  std::uint32_t target;  // URL index, kInlineTarget or kDirectoryTarget
  std::uint16_t offset_high;
  std::uint16_t length_high;
  std::uint32_t offset_low;
  std::uint32_t length_low;

  std::uint64_t offset() const { return (std::uint64_t{offset_high} << 32) | offset_low; }
  std::uint64_t length() const { return (std::uint64_t{length_high} << 32) | length_low; }
  void set_offset(std::uint64_t value) {
    offset_high = static_cast<std::uint16_t>(value >> 32);
    offset_low = static_cast<std::uint32_t>(value);
  }
  void set_length(std::uint64_t value) {
    length_high = static_cast<std::uint16_t>(value >> 32);
    length_low = static_cast<std::uint32_t>(value);
  }
};
static_assert(sizeof(Target) == 16);

}  // namespace kerchunkfs::refstore
