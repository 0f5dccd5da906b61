// Reference sets in kerchunk's parquet layout (scanner/parquet_references.h describes it),
// mounted lazily: the set's tree is made from DIR/.zmetadata alone, so the mount is ready after
// reading one small file; an array's chunk files are named by its chunk grid, and a chunk's
// reference is read from its refs.K.parq when the chunk is first looked up. Decoded files are
// kept in a byte-bounded LRU shared by the mount (-o parquet_cache), so memory stays bounded
// whatever the set's size. Listing an array reads no parquet file; a chunk whose row is empty
// answers ENOENT on lookup.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "common/zarr_array.h"
#include "daemon/content.h"
#include "daemon/log.h"
#include "parquet/parquet.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

struct ParquetLayout {
  std::string directory;          // DIR.parq
  std::uint64_t record_size = 0;  // rows a refs.K.parq holds
};

// The set's tree, made from DIR/.zmetadata: every .zgroup, .zattrs and .zarray as inline JSON.
struct ParquetSet {
  refstore::RefStore store;
  ParquetLayout layout;
};
// Whether `path` is a directory holding .zmetadata (a parquet set, or an attempt at one).
bool is_parquet_set(const std::string& path);
[[nodiscard]] common::Result<ParquetSet> load_parquet_set(const std::string& directory,
                                                          const refstore::LoadOptions& options);
// The same from the text of the set's .zmetadata (`name`, for messages), for a set by URL.
[[nodiscard]] common::Result<ParquetSet> parquet_set_from_metadata(std::string_view text, const std::string& name,
                                                                   std::string directory,
                                                                   const refstore::LoadOptions& options);

// Decoded refs.K.parq files, least recently used first out, within a byte budget.
class ParquetTables {
 public:
  // The bytes of a refs file by URL (a set by URL), or why they cannot be had.
  using RemoteReader = std::function<common::Result<std::string>(const std::string& url)>;
  ParquetTables(std::uint64_t capacity_bytes, RemoteReader read_remote)
      : capacity_(capacity_bytes),
        read_remote_(std::move(read_remote)),
        pool_(std::make_shared<parquet::BlockPool>(std::min<std::uint64_t>(capacity_bytes / 4, kMostSpare))) {}
  // The table in `file` as generation `generation` sees it (a reload may have written the file
  // anew), read and decoded on first use; an error names the file.
  [[nodiscard]] common::Result<std::shared_ptr<const parquet::Table>> get(const std::string& file,
                                                                          std::uint32_t generation);
  std::uint64_t bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const parquet::Table> table;
    std::uint64_t bytes = 0;
    std::list<std::string>::iterator position;
  };
  // Evicted tables' memory kept for the next ones: a few tables' worth.
  static constexpr std::uint64_t kMostSpare = 16 << 20;
  mutable std::mutex mutex_;
  std::uint64_t capacity_;
  RemoteReader read_remote_;
  std::shared_ptr<parquet::BlockPool> pool_;
  std::uint64_t held_ = 0;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // most recently used first
};

// What a chunk's row says.
struct ParquetChunk {
  enum class Kind { Missing, Inline, Range, WholeFile } kind = Kind::Missing;
  std::string bytes;  // Inline
  std::string url;    // Range, WholeFile
  std::uint64_t offset = 0, length = 0;
};

class ParquetView {
 public:
  ParquetView(const refstore::RefStore& store, ParquetLayout layout, ParquetTables& tables, std::string relative_base,
              std::string remote_protocol, std::uint32_t generation);

  // The chunk grid of the array in `directory`; null when it is no array.
  const common::ChunkGrid* grid(refstore::NodeId directory);
  // The first of the ordinals numbering the array's chunk files (see DecodedView's).
  std::uint64_t first_ordinal(refstore::NodeId directory);
  // The row of chunk `index` of the array in `directory`.
  [[nodiscard]] common::Result<ParquetChunk> chunk(refstore::NodeId directory, std::uint64_t index);

 private:
  struct Array {
    std::optional<common::ChunkGrid> grid;
    std::uint64_t first_ordinal = 0;
  };
  Array& array(refstore::NodeId directory);

  const refstore::RefStore& store_;
  const ParquetLayout layout_;
  ParquetTables& tables_;
  const std::string relative_base_;
  const std::string remote_protocol_;
  const std::uint32_t generation_;
  std::mutex mutex_;
  std::unordered_map<refstore::NodeId, Array> arrays_;
  std::uint64_t next_ordinal_ = 0;
};

}  // namespace kerchunkfs::daemon
