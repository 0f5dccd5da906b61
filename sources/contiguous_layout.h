// Where the chunks of an array stored contiguously in C order lie: for HDF5's contiguous datasets
// and netCDF classic variables alike, one chunk or row-aligned pieces (--split-contiguous).
#pragma once

#include <cstdint>
#include <vector>

namespace kerchunkfs::sources {

// Chunk shape for --split-contiguous: whole trailing axes, as many rows of the first axis as fit
// the limit (or single rows of the first axes and a run of the next one).
std::vector<std::uint64_t> split_shape(const std::vector<std::uint64_t>& shape, std::uint64_t element_bytes,
                                       std::uint64_t limit);

struct ContiguousPiece {
  std::vector<std::uint64_t> position;  // in the chunk grid
  std::uint64_t start = 0;              // byte offset from the array's first byte
  // Bytes of the array in it: a whole chunk's, or fewer for an edge chunk (zarr wants whole
  // chunks: the bytes after it in the file fill it out, which no reader uses).
  std::uint64_t stored = 0;
};

// The pieces of an array of `shape` cut into `chunks`, each `chunk_bytes` long.
std::vector<ContiguousPiece> contiguous_pieces(const std::vector<std::uint64_t>& shape,
                                               const std::vector<std::uint64_t>& chunks, std::uint64_t element_bytes,
                                               std::uint64_t& chunk_bytes);

}  // namespace kerchunkfs::sources
