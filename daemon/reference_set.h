// How the file system sees a reference set, whatever its format: a tree of keys (groups, arrays,
// their metadata; for a JSON set every chunk as well) and, for a format that keeps an array's
// chunk references elsewhere (a parquet set's record files; next, an Icechunk manifest), a chunk
// table the file system asks for chunk i when a reader first wants it. The formats themselves
// live behind daemon/set_formats.h; daemon/filesystem.h names none of them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/zarr_array.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

// What a chunk table says of one chunk.
struct ChunkReference {
  // Missing: never written, so the reader's fill value: no file is listed or found for it.
  enum class Kind { Missing, Inline, Range, WholeFile } kind = Kind::Missing;
  std::string bytes;  // Inline
  std::string url;    // Range, WholeFile: resolved, but not yet checked against the target policy
  std::uint64_t offset = 0, length = 0;
};

// The chunks of the arrays whose chunk files no key of the tree names. Called from many FUSE
// threads at once: implementations lock what they cache.
class ChunkTable {
 public:
  virtual ~ChunkTable() = default;
  // The chunk grid of the array in `directory` when this table holds its chunks; null otherwise.
  virtual const common::ChunkGrid* grid(refstore::NodeId directory) = 0;
  // The first of the numbers the array's chunk files get (chunk i is first + i): unique across
  // the generation's tables, as inode numbers must be.
  virtual std::uint64_t first_ordinal(refstore::NodeId directory) = 0;
  // Chunk `index` of the array; an error (EIO for the reader) when its reference cannot be read.
  [[nodiscard]] virtual common::Result<ChunkReference> chunk(refstore::NodeId directory, std::uint64_t index) = 0;
  // Whether a listing of the array shows chunk `index`: false where it is known missing; a chunk
  // whose reference cannot be read is listed (its lookup then says why).
  virtual bool listed(refstore::NodeId directory, std::uint64_t index) = 0;
};

// Opens the chunk table over the tree a generation holds; `generation` numbers the load (files a
// reload rewrote must not be taken from a cache filled before it).
using ChunkTableFactory =
    std::function<std::unique_ptr<ChunkTable>(const refstore::RefStore& tree, std::uint32_t generation)>;

// A reference set as loaded by its format.
struct ReferenceSet {
  refstore::RefStore tree;
  ChunkTableFactory chunks;  // empty: every chunk is a key of the tree
};

}  // namespace kerchunkfs::daemon
