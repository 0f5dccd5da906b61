#include "scanner/parquet_references.h"

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "common/zarr_array.h"
#include "parquet/parquet.h"

namespace kerchunkfs::scanner {
namespace {

using common::Error;
using refstore::ReferenceMap;

bool is_metadata(std::string_view leaf) { return leaf == ".zgroup" || leaf == ".zattrs" || leaf == ".zarray"; }

struct Array {
  common::ChunkGrid grid;
  std::map<std::uint64_t, const refstore::ReferenceValue*> chunks;  // by C-order index
};

common::Status write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return Error{path.string() + ": cannot write: " + std::strerror(errno), errno};
  return common::Ok{};
}

// One refs.K.parq: rows first..first+record_size of the array's chunks; rows past the last chunk
// are written as missing, as fsspec writes them.
common::Result<std::string> refs_file(const Array& array, std::uint64_t first, std::uint64_t record_size) {
  parquet::Table table;
  table.rows = record_size;
  table.columns = {
      parquet::Column("path", parquet::Column::Kind::Bytes), parquet::Column("offset", parquet::Column::Kind::Integer),
      parquet::Column("size", parquet::Column::Kind::Integer), parquet::Column("raw", parquet::Column::Kind::Bytes)};
  parquet::Column& path = table.columns[0];
  parquet::Column& offset = table.columns[1];
  parquet::Column& size = table.columns[2];
  parquet::Column& raw = table.columns[3];
  auto next = array.chunks.lower_bound(first);
  for (std::uint64_t index = first; index < first + record_size; ++index) {
    const refstore::ReferenceValue* value = nullptr;
    if (next != array.chunks.end() && next->first == index) value = (next++)->second;
    if (value == nullptr) {
      path.add_null();
      raw.add_null();
      offset.add_integer(0);
      size.add_integer(0);
    } else if (const auto* bytes = std::get_if<std::string>(value)) {
      path.add_null();
      raw.add_bytes(*bytes);
      offset.add_integer(0);
      size.add_integer(0);
    } else {
      const auto& range = std::get<refstore::RangeReference>(*value);
      path.add_bytes(range.url);
      raw.add_null();
      offset.add_integer(static_cast<std::int64_t>(range.offset));
      size.add_integer(static_cast<std::int64_t>(range.length));
    }
  }
  const std::string_view text[] = {"path"};
  return parquet::write_table(table, text);
}

}  // namespace

common::Status write_parquet_references(const std::string& directory, const ReferenceMap& references,
                                        std::uint64_t record_size) {
  if (record_size == 0) return Error{"the record size must be at least 1"};
  // The metadata, each value parsed to check it is JSON (it is written as JSON, not as text).
  std::string metadata = "{\"metadata\": {";
  std::map<std::string, Array> arrays;
  simdjson::dom::parser parser;
  bool first = true;
  for (const auto& [key, value] : references) {
    const auto slash = key.rfind('/');
    const std::string leaf = slash == std::string::npos ? key : key.substr(slash + 1);
    if (key == ".zmetadata" || !is_metadata(leaf)) continue;
    const auto* text = std::get_if<std::string>(&value);
    simdjson::dom::element document;
    if (text == nullptr || parser.parse(simdjson::padded_string(*text)).get(document)) {
      return Error{key + ": metadata that is not inline JSON has no place in the parquet layout"};
    }
    metadata += (first ? "" : ", ") + refstore::json_quote(key) + ": " + simdjson::to_string(document);
    first = false;
    if (leaf != ".zarray") continue;
    if (slash == std::string::npos) return Error{".zarray: an array at the root has no folder for its references"};
    auto meta = common::ArrayMeta::parse(*text);
    if (!meta) return common::wrap(meta.error(), key);
    auto grid = common::ChunkGrid::of(meta->shape, meta->chunks);
    if (!grid) return Error{key + ": its chunk grid is not understood"};
    arrays[key.substr(0, slash)].grid = *grid;
  }
  metadata += "}, \"record_size\": " + std::to_string(record_size) + "}\n";
  for (const auto& [key, value] : references) {
    const auto slash = key.rfind('/');
    const std::string leaf = slash == std::string::npos ? key : key.substr(slash + 1);
    if (key == ".zmetadata" || is_metadata(leaf)) continue;
    const auto array = slash == std::string::npos ? arrays.end() : arrays.find(key.substr(0, slash));
    const auto index = array == arrays.end() ? std::nullopt : array->second.grid.index_of(leaf);
    if (!index) return Error{key + ": not a chunk of an array, which the parquet layout cannot hold"};
    array->second.chunks.emplace(*index, &value);
  }
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) return Error{directory + ": cannot create: " + error.message()};
  if (auto written = write_file(std::filesystem::path(directory) / ".zmetadata", metadata); !written) return written;
  for (const auto& [name, array] : arrays) {
    const std::filesystem::path folder = std::filesystem::path(directory) / name;
    std::filesystem::create_directories(folder, error);
    if (error) return Error{folder.string() + ": cannot create: " + error.message()};
    const std::uint64_t files = std::max<std::uint64_t>(1, (array.grid.chunk_count() + record_size - 1) / record_size);
    for (std::uint64_t k = 0; k < files; ++k) {
      auto bytes = refs_file(array, k * record_size, record_size);
      if (!bytes) return common::wrap(bytes.error(), name);
      if (auto written = write_file(folder / ("refs." + std::to_string(k) + ".parq"), *bytes); !written) {
        return written;
      }
    }
  }
  return common::Ok{};
}

}  // namespace kerchunkfs::scanner
