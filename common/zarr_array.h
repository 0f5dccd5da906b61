// zarr v2 array metadata (.zarray) and its chunk grid: what the daemon's read-ahead, the scanner
// and combine all need to know about an array, parsed and computed in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kerchunkfs::common {

struct ArrayMeta {
  std::vector<std::uint64_t> shape, chunks;
  // Compact JSON text of each remaining field ("null" where absent).
  std::string dtype, compressor, filters, fill_value, order = "\"C\"";

  // Fails when the text is not a zarr v2 array (or uses "/" chunk key separators).
  [[nodiscard]] static common::Result<ArrayMeta> parse(std::string_view json);
  std::string to_json() const;  // keys sorted
  // Everything but the shape: what must agree for arrays to be joined.
  bool same_encoding(const ArrayMeta& other) const;
};

// The chunks of an array: ceil(shape / chunks) along each dimension, numbered in C order. A 0-d
// array has one chunk, "0".
class ChunkGrid {
 public:
  ChunkGrid() = default;
  // Nothing when the two lists differ in length or a chunk extent is 0.
  [[nodiscard]] static std::optional<ChunkGrid> of(std::span<const std::uint64_t> shape,
                                                   std::span<const std::uint64_t> chunks);

  const std::vector<std::uint64_t>& counts() const { return counts_; }  // chunks along each dimension
  std::uint64_t chunk_count() const { return chunk_count_; }
  // "1.2" → its C-order index; nothing for a name that is no chunk of this grid.
  [[nodiscard]] std::optional<std::uint64_t> index_of(std::string_view key) const;
  std::vector<std::uint64_t> coordinates(std::uint64_t index) const;
  std::string key_of(std::uint64_t index) const;  // "1.2"

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t chunk_count_ = 1;
};

// "1.2.0" for coordinates {1, 2, 0}; "0" for none (a 0-d array).
std::string chunk_key(std::span<const std::uint64_t> coordinates);

}  // namespace kerchunkfs::common
