#include "refstore/grid_run.h"

#include <algorithm>
#include <charconv>

namespace kerchunkfs::refstore {
namespace {

// Known extents multiply to at most this, so linear positions fit in 64 bits.
constexpr std::uint64_t kMaxCells = std::uint64_t{1} << 32;

}  // namespace

std::optional<ChunkCoords> parse_chunk_name(std::string_view name) {
  // One pass: every chunk key of a set comes through here.
  ChunkCoords coords;
  const char* p = name.data();
  const char* const end = p + name.size();
  while (true) {
    if (p == end || coords.dims == kMaxGridDims) return std::nullopt;
    const char* const start = p;
    std::uint64_t value = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (value > 9) return std::nullopt;
    for (++p; p != end && value != 0; ++p) {  // after a leading 0 only '.' or the end may come
      const unsigned digit = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (digit > 9) break;
      if (p - start == 10) return std::nullopt;
      value = value * 10 + digit;
    }
    if (value > kMaxChunkCoordinate) return std::nullopt;
    coords.values[coords.dims++] = static_cast<std::uint32_t>(value);
    if (p == end) return coords;
    if (*p != '.') return std::nullopt;
    ++p;
  }
}

std::string format_chunk_name(const ChunkCoords& coords) {
  char text[kMaxGridDims * 11];
  char* out = text;
  for (std::size_t d = 0; d < coords.dims; ++d) {
    if (d > 0) *out++ = '.';
    out = std::to_chars(out, text + sizeof text, coords.values[d]).ptr;
  }
  return std::string(text, out);
}

GridRun::GridRun(std::uint32_t first, std::uint32_t parent, const ChunkCoords& start, std::uint64_t members_before)
    : first_(first), parent_(parent), members_before_(members_before), free_(start.dims), start_(start), last_(start) {}

GridRun GridRun::rebased(std::uint32_t first, std::uint32_t parent, std::uint64_t members_before) const {
  GridRun run = *this;
  run.first_ = first;
  run.parent_ = parent;
  run.members_before_ = members_before;
  return run;
}

bool GridRun::extend(const ChunkCoords& coords) {
  const std::size_t dims = start_.dims;
  if (coords.dims != dims || count_ == UINT32_MAX) return false;
  std::size_t step = 0;  // the dimension that counts up; those after it wrap to 0
  while (step < dims && coords.values[step] == last_.values[step]) ++step;
  if (step == dims || coords.values[step] != std::uint64_t{last_.values[step]} + 1) return false;
  if (step >= free_ && coords.values[step] >= extents_[step]) return false;
  std::uint64_t cells = 1;
  for (std::size_t d = step + 1; d < dims; ++d) {
    if (coords.values[d] != 0) return false;
    const std::uint32_t extent = last_.values[d] + 1;
    if (d >= free_ && extent != extents_[d]) return false;
    cells *= extent;
    if (cells > kMaxCells) return false;
  }
  for (std::size_t d = step + 1; d < free_; ++d) extents_[d] = last_.values[d] + 1;
  free_ = std::min(free_, step + 1);
  last_ = coords;
  ++count_;
  return true;
}

bool GridRun::extend_last() {
  const std::size_t d = start_.dims - 1;
  const std::uint64_t next = std::uint64_t{last_.values[d]} + 1;
  if (count_ == UINT32_MAX || next > kMaxChunkCoordinate || (d >= free_ && next >= extents_[d])) return false;
  last_.values[d] = static_cast<std::uint32_t>(next);
  ++count_;
  return true;
}

std::optional<std::uint64_t> GridRun::linear(const ChunkCoords& coords) const {
  if (coords.dims != start_.dims) return std::nullopt;
  for (std::size_t d = 0; d + 1 < free_; ++d) {
    if (coords.values[d] != start_.values[d]) return std::nullopt;
  }
  std::uint64_t position = coords.values[free_ - 1];
  for (std::size_t d = free_; d < start_.dims; ++d) {
    if (coords.values[d] >= extents_[d]) return std::nullopt;
    position = position * extents_[d] + coords.values[d];
  }
  return position;
}

std::optional<std::uint32_t> GridRun::index_of(const ChunkCoords& coords) const {
  const auto position = linear(coords);
  const std::uint64_t base = *linear(start_);
  if (!position || *position < base || *position - base >= count_) return std::nullopt;
  return static_cast<std::uint32_t>(*position - base);
}

ChunkCoords GridRun::coords_of(std::uint32_t index) const {
  ChunkCoords coords = start_;
  std::uint64_t position = *linear(start_) + index;
  for (std::size_t d = start_.dims; d-- > free_;) {
    coords.values[d] = static_cast<std::uint32_t>(position % extents_[d]);
    position /= extents_[d];
  }
  coords.values[free_ - 1] = static_cast<std::uint32_t>(position);
  return coords;
}

void GridRun::advance(ChunkCoords& coords) const {
  for (std::size_t d = start_.dims; d-- > free_;) {
    if (++coords.values[d] < extents_[d]) return;
    coords.values[d] = 0;
  }
  ++coords.values[free_ - 1];
}

std::pair<std::uint32_t, std::uint32_t> GridRun::range(std::size_t dim) const {
  if (dim + 1 < free_) return {start_.values[dim], start_.values[dim]};
  if (dim + 1 == free_) return {start_.values[dim], coords_of(count_ - 1).values[dim]};
  return {0, extents_[dim] - 1};
}

bool GridRun::disjoint(const GridRun& other) const {
  if (start_.dims != other.start_.dims) return true;
  for (std::size_t d = 0; d < start_.dims; ++d) {
    const auto [low, high] = range(d);
    const auto [other_low, other_high] = other.range(d);
    if (high < other_low || other_high < low) return true;
  }
  return false;
}

}  // namespace kerchunkfs::refstore
