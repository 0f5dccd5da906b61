#include "sources/contiguous_layout.h"

#include <algorithm>

#include "common/zarr_array.h"

namespace kerchunkfs::sources {

std::vector<std::uint64_t> split_shape(const std::vector<std::uint64_t>& shape, std::uint64_t element_bytes,
                                       std::uint64_t limit) {
  std::vector<std::uint64_t> chunks(shape.size(), 1);
  for (std::size_t d = 0; d < shape.size(); ++d) {
    std::uint64_t row = element_bytes;
    for (std::size_t a = d + 1; a < shape.size(); ++a) row *= shape[a];
    if (row <= limit) {
      chunks[d] = std::clamp<std::uint64_t>(limit / row, 1, std::max<std::uint64_t>(shape[d], 1));
      for (std::size_t a = d + 1; a < shape.size(); ++a) chunks[a] = std::max<std::uint64_t>(shape[a], 1);
      break;
    }
  }
  return chunks;
}

std::vector<ContiguousPiece> contiguous_pieces(const std::vector<std::uint64_t>& shape,
                                               const std::vector<std::uint64_t>& chunks, std::uint64_t element_bytes,
                                               std::uint64_t& chunk_bytes) {
  const std::size_t rank = shape.size();
  std::uint64_t total = element_bytes;
  chunk_bytes = element_bytes;
  std::vector<std::uint64_t> stride(rank, element_bytes);  // bytes per step along each axis
  for (std::size_t d = rank; d-- > 0;) {
    stride[d] = total;
    total *= shape[d];
    chunk_bytes *= chunks[d];
  }
  std::vector<ContiguousPiece> pieces;
  const auto grid = common::ChunkGrid::of(shape, chunks);
  if (!grid) return pieces;
  pieces.reserve(grid->chunk_count());
  for (std::uint64_t n = 0; n < grid->chunk_count(); ++n) {
    ContiguousPiece piece{grid->coordinates(n), 0, 0};
    for (std::size_t d = 0; d < rank; ++d) piece.start += piece.position[d] * chunks[d] * stride[d];
    piece.stored = std::min(chunk_bytes, total - piece.start);
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

}  // namespace kerchunkfs::sources
