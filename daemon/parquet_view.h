// Reference sets in kerchunk's parquet layout (scanner/parquet_references.h describes it),
// mounted lazily: the set's tree is made from DIR/.zmetadata alone, so the mount is ready after
// reading one small file; an array's chunks are a ChunkTable (daemon/reference_set.h) whose
// references are read from its refs.K.parq when a chunk is first wanted. Decoded files are kept
// in a byte-bounded LRU shared by the mount (-o parquet_cache), so memory stays bounded whatever
// the set's size. A refs file that does not exist holds missing chunks (its writer leaves an
// array of fill values without one), as an empty row does: neither is listed nor found.
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
#include "daemon/reference_set.h"
#include "parquet/parquet.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

struct ParquetLayout {
  std::string directory;          // DIR.parq
  std::uint64_t record_size = 0;  // rows a refs.K.parq holds
};

class ParquetTables;

// Whether `path` is a directory holding .zmetadata (a parquet set, or an attempt at one).
bool is_parquet_set(const std::string& path);
// The set in `directory`: its tree from .zmetadata, its chunks read through `tables`.
[[nodiscard]] common::Result<ReferenceSet> load_parquet_set(const std::string& directory,
                                                            const refstore::LoadOptions& options,
                                                            std::shared_ptr<ParquetTables> tables);
// The same from the text of the set's .zmetadata (`name`, for messages), for a set by URL
// `directory`.
[[nodiscard]] common::Result<ReferenceSet> parquet_set_from_metadata(std::string_view text, const std::string& name,
                                                                     std::string directory,
                                                                     const refstore::LoadOptions& options,
                                                                     std::shared_ptr<ParquetTables> tables);

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
  // anew), read and decoded on first use; an error names the file, with ENOENT when the file
  // does not exist.
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

}  // namespace kerchunkfs::daemon
