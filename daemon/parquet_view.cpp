#include "daemon/parquet_view.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/full_io.h"
#include "common/unique_fd.h"
#include "daemon/remote_set.h"
#include "refstore/writer.h"

namespace kerchunkfs::daemon {
namespace {

using common::Error;
using common::Result;

// The file's bytes; an error with the errno of what failed (ENOENT: there is no such file).
Result<std::string> read_whole(const std::string& path) {
  const common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) return Error{path + ": cannot read: " + std::strerror(errno), errno};
  if (!S_ISREG(st.st_mode)) return Error{path + ": cannot read: not a regular file"};
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  if (!common::read_full(fd.get(), bytes.data(), bytes.size())) {
    return Error{path + ": cannot read: it shrank while read"};
  }
  return bytes;
}

// What a table's memory comes to, for the cache's budget.
std::uint64_t size_of(const parquet::Table& table) {
  std::uint64_t bytes = sizeof(table);
  for (const parquet::Column& column : table.columns) bytes += column.memory_bytes();
  return bytes;
}

// An array's chunks, read from its refs.K.parq files.
class ParquetChunks final : public ChunkTable {
 public:
  ParquetChunks(const refstore::RefStore& tree, ParquetLayout layout, ParquetTables& tables,
                const refstore::LoadOptions& options, std::uint32_t generation)
      : tree_(tree),
        layout_(std::move(layout)),
        tables_(tables),
        relative_base_(options.relative_base),
        remote_protocol_(options.remote_protocol),
        generation_(generation) {}

  const common::ChunkGrid* grid(refstore::NodeId directory) override {
    Array& found = array(directory);
    return found.grid ? &*found.grid : nullptr;
  }
  std::uint64_t first_ordinal(refstore::NodeId directory) override { return array(directory).first_ordinal; }
  Result<ChunkReference> chunk(refstore::NodeId directory, std::uint64_t index) override;
  bool listed(refstore::NodeId directory, std::uint64_t index) override {
    const auto found = chunk(directory, index);
    return !found || found->kind != ChunkReference::Kind::Missing;
  }

 private:
  struct Array {
    std::optional<common::ChunkGrid> grid;
    std::uint64_t first_ordinal = 0;
  };
  Array& array(refstore::NodeId directory);

  const refstore::RefStore& tree_;
  const ParquetLayout layout_;
  ParquetTables& tables_;
  const std::string relative_base_;
  const std::string remote_protocol_;
  const std::uint32_t generation_;
  std::mutex mutex_;
  std::unordered_map<refstore::NodeId, Array> arrays_;
  std::uint64_t next_ordinal_ = 0;
};

ParquetChunks::Array& ParquetChunks::array(refstore::NodeId directory) {
  const std::lock_guard lock(mutex_);
  auto found = arrays_.find(directory);
  if (found != arrays_.end()) return found->second;
  Array array;
  if (const auto zarray = tree_.lookup(directory, ".zarray")) {
    const refstore::Entry entry = tree_.entry(*zarray);
    if (entry.kind == refstore::EntryKind::Inline) {
      if (const auto meta = common::ArrayMeta::parse(entry.data)) {
        array.grid = common::ChunkGrid::of(meta->shape, meta->chunks);
      }
    }
  }
  if (array.grid) {
    array.first_ordinal = next_ordinal_;
    next_ordinal_ += array.grid->chunk_count();
  }
  return arrays_.emplace(directory, std::move(array)).first->second;
}

Result<ChunkReference> ParquetChunks::chunk(refstore::NodeId directory, std::uint64_t index) {
  const std::uint64_t file = index / layout_.record_size;
  const std::uint64_t row = index % layout_.record_size;
  const std::string path = layout_.directory + "/" + tree_.key(directory) + "/refs." + std::to_string(file) + ".parq";
  ChunkReference chunk;
  auto table = tables_.get(path, generation_);
  if (!table) {
    if (table.error().code == ENOENT) return chunk;  // no refs file: every chunk of it is missing
    return table.error();
  }
  if (row >= (*table)->rows) return chunk;  // a short last file: the chunk was never written
  const parquet::Column* paths = (*table)->column("path");
  const parquet::Column* raws = (*table)->column("raw");
  const parquet::Column* offsets = (*table)->column("offset");
  const parquet::Column* sizes = (*table)->column("size");
  if (paths == nullptr || offsets == nullptr || sizes == nullptr) {
    return Error{path + ": no path, offset and size columns"};
  }
  for (const parquet::Column* column : {paths, raws}) {
    if (column != nullptr && column->kind() != parquet::Column::Kind::Bytes) {
      return Error{path + ": column " + column->name() + " holds integers, not bytes"};
    }
  }
  for (const parquet::Column* column : {offsets, sizes}) {
    if (column->kind() != parquet::Column::Kind::Integer) {
      return Error{path + ": column " + column->name() + " holds bytes, not integers"};
    }
  }
  if (const auto raw = raws != nullptr ? raws->bytes(row) : std::nullopt) {
    chunk.kind = ChunkReference::Kind::Inline;
    chunk.bytes = std::string(*raw);
    return chunk;
  }
  const auto url = paths->bytes(row);
  if (!url) return chunk;
  // A relative path is relative to the folder the set lies in, as for a JSON set beside its data
  // (or an object of -o remote_protocol).
  chunk.url = refstore::resolve_target(std::string(*url), relative_base_, remote_protocol_);
  const std::int64_t offset = offsets->integer(row).value_or(0);
  const std::int64_t size = sizes->integer(row).value_or(0);
  if (offset < 0 || size < 0) return Error{path + ": row " + std::to_string(row) + ": a negative offset or size"};
  chunk.kind = offset == 0 && size == 0 ? ChunkReference::Kind::WholeFile : ChunkReference::Kind::Range;
  chunk.offset = static_cast<std::uint64_t>(offset);
  chunk.length = static_cast<std::uint64_t>(size);
  return chunk;
}

}  // namespace

bool is_parquet_set(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && ::stat((path + "/.zmetadata").c_str(), &st) == 0;
}

Result<ReferenceSet> load_parquet_set(const std::string& directory, const refstore::LoadOptions& options,
                                      std::shared_ptr<ParquetTables> tables) {
  const std::string name = directory + "/.zmetadata";
  auto text = read_whole(name);
  if (!text) return Error{name + ": cannot read"};
  return parquet_set_from_metadata(*text, name, directory, options, std::move(tables));
}

Result<ReferenceSet> parquet_set_from_metadata(std::string_view text, const std::string& name, std::string directory,
                                               const refstore::LoadOptions& options,
                                               std::shared_ptr<ParquetTables> tables) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(simdjson::padded_string(text)).get(top)) return Error{name + ": not a JSON object"};
  std::uint64_t record_size = 0;
  if (top["record_size"].get(record_size) || record_size == 0) {
    return Error{name + ": no positive record_size: not a parquet reference set"};
  }
  simdjson::dom::object metadata;
  if (top["metadata"].get(metadata)) return Error{name + ": no metadata object"};
  // The metadata as a reference set of inline JSON values, built by the JSON loader.
  std::string refs = "{";
  for (const auto field : metadata) {
    const std::string_view key = field.key;
    const std::string_view leaf = key.substr(key.rfind('/') == std::string_view::npos ? 0 : key.rfind('/') + 1);
    if (leaf != ".zgroup" && leaf != ".zattrs" && leaf != ".zarray") {
      return Error{name + ": metadata key \"" + std::string(key) + "\" is no .zgroup, .zattrs or .zarray"};
    }
    refs += (refs.size() > 1 ? ", " : "") + refstore::json_quote(key) + ": " +
            refstore::json_quote(simdjson::to_string(field.value));
  }
  refs += "}";
  auto store = refstore::RefStore::parse(refs, options);
  if (!store) return common::wrap(store.error(), name);
  ChunkTableFactory chunks = [layout = ParquetLayout{std::move(directory), record_size}, tables = std::move(tables),
                              options](const refstore::RefStore& tree, std::uint32_t generation) {
    return std::unique_ptr<ChunkTable>(std::make_unique<ParquetChunks>(tree, layout, *tables, options, generation));
  };
  return ReferenceSet{std::move(*store), std::move(chunks)};
}

Result<std::shared_ptr<const parquet::Table>> ParquetTables::get(const std::string& file, std::uint32_t generation) {
  const std::string path = std::to_string(generation) + ":" + file;
  {
    const std::lock_guard lock(mutex_);
    if (const auto found = entries_.find(path); found != entries_.end()) {
      recency_.splice(recency_.begin(), recency_, found->second.position);
      return found->second.table;
    }
  }
  // Read outside the lock: two first lookups of one file may both read it; the second keeps its own.
  const Result<std::string> bytes = is_remote_set(file) ? read_remote_(file) : read_whole(file);
  if (!bytes) return bytes.error();
  auto read = parquet::read_table(*bytes, pool_);
  if (!read) return common::wrap(read.error(), file);
  auto table = std::make_shared<const parquet::Table>(std::move(*read));
  const std::uint64_t size = size_of(*table);
  const std::lock_guard lock(mutex_);
  if (entries_.contains(path)) return entries_.at(path).table;
  recency_.push_front(path);
  entries_.emplace(path, Entry{table, size, recency_.begin()});
  held_ += size;
  while (held_ > capacity_ && recency_.size() > 1) {
    const auto victim = entries_.find(recency_.back());
    held_ -= victim->second.bytes;
    entries_.erase(victim);
    recency_.pop_back();
  }
  return std::shared_ptr<const parquet::Table>(table);
}

std::uint64_t ParquetTables::bytes() const {
  const std::lock_guard lock(mutex_);
  return held_;
}

}  // namespace kerchunkfs::daemon
