// A run of consecutive file nodes in one directory whose names are chunk coordinates ("12.0.3")
// in C order: kept as its first coordinates and the extents it showed, not as names and index
// slots. A chunk grid's keys are most of a large set, so this is most of what a set costs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kerchunkfs::refstore {

inline constexpr std::size_t kMaxGridDims = 8;
// A coordinate plus one still fits in 32 bits, so extents do.
inline constexpr std::uint32_t kMaxChunkCoordinate = 0xfffffffe;

struct ChunkCoords {
  std::array<std::uint32_t, kMaxGridDims> values{};
  std::size_t dims = 0;
};

// The coordinates a chunk name spells, when it is one: 1 to 8 decimal numbers below 2^32
// written without leading zeros, joined by '.'. Any other spelling is an ordinary name, so the
// name a run gives back is always the one the set wrote.
std::optional<ChunkCoords> parse_chunk_name(std::string_view name);
std::string format_chunk_name(const ChunkCoords& coords);

class GridRun {
 public:
  // `members_before`: how many members runs before this one hold (where this one's values start
  // in the store's member table, which holds them all in node order).
  GridRun(std::uint32_t first, std::uint32_t parent, const ChunkCoords& start, std::uint64_t members_before);

  // Takes `coords` as the next member when it follows the last one in C order. A wrap from the
  // last member fixes the extents of the dimensions that wrapped; a later key that disagrees
  // with them ends the run (the caller starts another).
  [[nodiscard]] bool extend(const ChunkCoords& coords);
  // extend() with the last member's coordinates, the last one higher: the usual next key.
  [[nodiscard]] bool extend_last();
  // Which member has these coordinates.
  std::optional<std::uint32_t> index_of(const ChunkCoords& coords) const;
  ChunkCoords coords_of(std::uint32_t index) const;
  // The coordinates after `coords` in this run's order (for walking the members in turn).
  void advance(ChunkCoords& coords) const;
  // Whether no coordinates can be in both runs (a cheap bound: each dimension's range).
  bool disjoint(const GridRun& other) const;

  // The same run with its first node, directory and place in the member table moved.
  GridRun rebased(std::uint32_t first, std::uint32_t parent, std::uint64_t members_before) const;

  const ChunkCoords& start() const { return start_; }
  std::uint64_t members_before() const { return members_before_; }
  std::uint64_t member_index(std::uint32_t node) const { return members_before_ + (node - first_); }
  std::uint32_t first() const { return first_; }
  std::uint32_t parent() const { return parent_; }
  std::uint32_t count() const { return count_; }
  bool contains_node(std::uint32_t node) const { return node >= first_ && node - first_ < count_; }

 private:
  // Linear position of coordinates in this run's shape, where dimensions before free_ stay at
  // their start values and dimension free_ - 1 is unbounded.
  std::optional<std::uint64_t> linear(const ChunkCoords& coords) const;
  std::pair<std::uint32_t, std::uint32_t> range(std::size_t dim) const;

  std::uint32_t first_;
  std::uint32_t parent_;
  std::uint32_t count_ = 1;
  std::uint64_t members_before_;
  std::size_t free_;  // extents_[d] is known for d >= free_; free_ >= 1
  ChunkCoords start_;
  ChunkCoords last_;
  std::array<std::uint32_t, kMaxGridDims> extents_{};
};

}  // namespace kerchunkfs::refstore
