// Reading a Parquet file: the footer (FileMetaData, thrift compact), then each column chunk's
// pages in order. Names and numbers from parquet-format's parquet.thrift.
#include <libdeflate.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>

#include "parquet/mapped_arena.h"
#include "parquet/parquet.h"
#include "parquet/thrift.h"

namespace kerchunkfs::parquet {
namespace {

using common::Error;
using common::Result;

// parquet.thrift's enums, as far as they are read here.
enum PhysicalType { kInt32 = 1, kInt64 = 2, kByteArray = 6 };
enum Repetition { kRequired = 0, kOptional = 1 };
enum Encoding { kPlain = 0, kPlainDictionary = 2, kRle = 3, kRleDictionary = 8 };
enum Codec { kUncompressed = 0, kSnappy = 1, kGzip = 2, kZstd = 6, kLz4Raw = 7 };
enum PageType { kDataPage = 0, kDictionaryPage = 2, kDataPageV2 = 3 };

std::string type_name(std::int64_t type) {
  static const char* names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return type >= 0 && type < 8 ? names[type] : "type " + std::to_string(type);
}
std::string encoding_name(std::int64_t encoding) {
  static const char* names[] = {"PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
                                "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  return encoding >= 0 && encoding < 10 ? names[encoding] : "encoding " + std::to_string(encoding);
}
std::string codec_name(std::int64_t codec) {
  static const char* names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec < 8 ? names[codec] : "codec " + std::to_string(codec);
}

struct SchemaElement {
  std::int64_t type = -1;
  std::int64_t repetition = kRequired;
  std::string name;
  std::int64_t children = 0;
};
struct ColumnMeta {
  std::int64_t type = -1;
  std::int64_t codec = 0;
  std::int64_t values = 0;
  std::int64_t data_page = -1;
  std::int64_t dictionary_page = -1;
};
struct FileMeta {
  std::vector<SchemaElement> schema;
  std::int64_t rows = 0;
  std::vector<std::vector<ColumnMeta>> row_groups;
};

// Reads the fields of one struct, handing each to `take`, which returns false for one it skips.
template <class Take>
common::Status each_field(ThriftReader& in, Take&& take) {
  in.begin_struct();
  for (;;) {
    auto field = in.field();
    if (!field) return field.error();
    if (field->type == WireType::Stop) break;
    auto taken = take(*field);
    if (!taken) return taken.error();
    if (!*taken) {
      if (auto skipped = in.skip(field->type); !skipped) return skipped;
    }
  }
  in.end_struct();
  return common::Ok{};
}

// An integer field's value into `out`.
Result<bool> integer_into(ThriftReader& in, std::int64_t& out) {
  auto value = in.integer();
  if (!value) return value.error();
  out = *value;
  return true;
}

template <class Element>
Result<bool> list_of(ThriftReader& in, std::vector<Element>& out, Result<Element> (*element)(ThriftReader&)) {
  auto header = in.list();
  if (!header) return header.error();
  if (header->element != WireType::Struct) return Error{"a list that should hold structs holds another type"};
  for (std::uint64_t i = 0; i < header->size; ++i) {
    auto item = element(in);
    if (!item) return item.error();
    out.push_back(std::move(*item));
  }
  return true;
}

Result<SchemaElement> schema_element(ThriftReader& in) {
  SchemaElement e;
  auto status = each_field(in, [&](ThriftReader::Field f) -> Result<bool> {
    switch (f.id) {
      case 1:
        return integer_into(in, e.type);
      case 3:
        return integer_into(in, e.repetition);
      case 4: {
        auto name = in.binary();
        if (!name) return name.error();
        e.name = std::string(*name);
        return true;
      }
      case 5:
        return integer_into(in, e.children);
      default:
        return false;
    }
  });
  if (!status) return status.error();
  return e;
}

Result<ColumnMeta> column_meta(ThriftReader& in) {
  ColumnMeta m;
  auto status = each_field(in, [&](ThriftReader::Field f) -> Result<bool> {
    switch (f.id) {
      case 1:
        return integer_into(in, m.type);
      case 4:
        return integer_into(in, m.codec);
      case 5:
        return integer_into(in, m.values);
      case 9:
        return integer_into(in, m.data_page);
      case 11:
        return integer_into(in, m.dictionary_page);
      default:
        return false;
    }
  });
  if (!status) return status.error();
  return m;
}

Result<ColumnMeta> column_chunk(ThriftReader& in) {
  std::optional<ColumnMeta> meta;
  auto status = each_field(in, [&](ThriftReader::Field f) -> Result<bool> {
    if (f.id == 1 && f.type == WireType::Binary) {  // file_path: columns in other files
      auto path = in.binary();
      if (!path) return path.error();
      if (!path->empty()) return Error{"a column chunk in another file (" + std::string(*path) + ") is not read"};
      return true;
    }
    if (f.id != 3 || f.type != WireType::Struct) return false;
    auto m = column_meta(in);
    if (!m) return m.error();
    meta = *m;
    return true;
  });
  if (!status) return status.error();
  if (!meta) return Error{"a column chunk without its metadata"};
  return *meta;
}

Result<std::vector<ColumnMeta>> row_group(ThriftReader& in) {
  std::vector<ColumnMeta> columns;
  auto status = each_field(in, [&](ThriftReader::Field f) -> Result<bool> {
    if (f.id != 1 || f.type != WireType::List) return false;
    return list_of<ColumnMeta>(in, columns, column_chunk);
  });
  if (!status) return status.error();
  return columns;
}

Result<FileMeta> file_meta(std::string_view bytes) {
  ThriftReader in(bytes);
  FileMeta meta;
  auto status = each_field(in, [&](ThriftReader::Field f) -> Result<bool> {
    switch (f.id) {
      case 2:
        return list_of<SchemaElement>(in, meta.schema, schema_element);
      case 3:
        return integer_into(in, meta.rows);
      case 4:
        return list_of<std::vector<ColumnMeta>>(in, meta.row_groups, row_group);
      default:
        return false;
    }
  });
  if (!status) return common::wrap(status.error(), "footer");
  return meta;
}

struct PageHeader {
  std::int64_t type = -1;
  std::int64_t uncompressed = 0, compressed = 0;
  std::int64_t values = 0, encoding = -1, level_encoding = kRle;
  std::int64_t nulls = 0, definition_bytes = 0, repetition_bytes = 0;
  bool values_compressed = true;  // v2 only
};

Result<PageHeader> page_header(ThriftReader& in) {
  PageHeader h;
  // The page kinds' own headers: v1 data (5), dictionary (7), v2 data (8).
  const auto sub = [&](int kind) {
    return [&, kind](ThriftReader::Field f) -> Result<bool> {
      if (kind == 5) {
        switch (f.id) {
          case 1:
            return integer_into(in, h.values);
          case 2:
            return integer_into(in, h.encoding);
          case 3:
            return integer_into(in, h.level_encoding);
          default:
            return false;
        }
      }
      if (kind == 7) {
        switch (f.id) {
          case 1:
            return integer_into(in, h.values);
          case 2:
            return integer_into(in, h.encoding);
          default:
            return false;
        }
      }
      switch (f.id) {
        case 1:
          return integer_into(in, h.values);
        case 2:
          return integer_into(in, h.nulls);
        case 4:
          return integer_into(in, h.encoding);
        case 5:
          return integer_into(in, h.definition_bytes);
        case 6:
          return integer_into(in, h.repetition_bytes);
        case 7:
          h.values_compressed = f.type == WireType::True;
          return true;
        default:
          return false;
      }
    };
  };
  auto status = each_field(in, [&](ThriftReader::Field f) -> Result<bool> {
    switch (f.id) {
      case 1:
        return integer_into(in, h.type);
      case 2:
        return integer_into(in, h.uncompressed);
      case 3:
        return integer_into(in, h.compressed);
      case 5:
      case 7:
      case 8: {
        if (f.type != WireType::Struct) return false;
        auto inner = each_field(in, sub(f.id));
        if (!inner) return inner.error();
        return true;
      }
      default:
        return false;
    }
  });
  if (!status) return status.error();
  if (h.compressed < 0 || h.uncompressed < 0 || h.values < 0 || h.definition_bytes < 0 || h.repetition_bytes < 0) {
    return Error{"a page header with a negative size"};
  }
  return h;
}

// Pages' decompressed bytes, kept while the values read from them are: memory taken without
// zeroing it first (each decompressor writes all of it, or the page is refused).
class PageBuffers {
 public:
  char* take(std::size_t size) {
    buffers_.push_back(std::make_unique_for_overwrite<char[]>(size));
    return buffers_.back().get();
  }

 private:
  std::deque<std::unique_ptr<char[]>> buffers_;
};

// A page's bytes decompressed to exactly `size`, into `buffers` (an uncompressed page is viewed
// where it lies in the file).
Result<std::string_view> decompress(std::int64_t codec, std::string_view in, std::int64_t size, PageBuffers& buffers) {
  constexpr std::int64_t kLargestPage = 1ll << 30;
  if (size < 0) return Error{"a page of negative size"};
  if (size > kLargestPage) return Error{"a page of " + std::to_string(size) + " bytes (more than 1 GiB)"};
  const auto length = static_cast<std::size_t>(size);
  switch (codec) {
    case kUncompressed:
      if (in.size() != length) return Error{"an uncompressed page whose sizes differ"};
      return in;
    case kSnappy: {
      std::size_t stated = 0;
      if (snappy_uncompressed_length(in.data(), in.size(), &stated) != SNAPPY_OK || stated != length) {
        return Error{"a snappy page that does not decompress to its stated size"};
      }
      char* out = buffers.take(length);
      if (snappy_uncompress(in.data(), in.size(), out, &stated) != SNAPPY_OK || stated != length) {
        return Error{"a corrupt snappy page"};
      }
      return std::string_view(out, length);
    }
    case kGzip: {
      const std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(
          libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
      char* out = buffers.take(length);
      std::size_t produced = 0;
      if (!d ||
          libdeflate_gzip_decompress(d.get(), in.data(), in.size(), out, length, &produced) != LIBDEFLATE_SUCCESS ||
          produced != length) {
        return Error{"a gzip page that does not decompress to its stated size"};
      }
      return std::string_view(out, length);
    }
    case kZstd: {
      char* out = buffers.take(length);
      const std::size_t produced = ZSTD_decompress(out, length, in.data(), in.size());
      if (ZSTD_isError(produced) != 0U || produced != length) {
        return Error{"a zstd page that does not decompress to its stated size"};
      }
      return std::string_view(out, length);
    }
    case kLz4Raw: {
      if (in.size() > INT_MAX || length > INT_MAX) return Error{"an lz4 page larger than 2 GiB"};
      char* out = buffers.take(length);
      const int produced = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()), static_cast<int>(length));
      if (produced != static_cast<int>(length)) return Error{"an lz4 page that does not decompress to its size"};
      return std::string_view(out, length);
    }
    default:
      return Error{"pages compressed with " + codec_name(codec) + " are not read"};
  }
}

// The RLE/bit-packed hybrid: `count` values of `width` bits.
Result<std::vector<std::uint32_t>> hybrid(std::string_view in, unsigned width, std::uint64_t count) {
  if (width > 32) return Error{"a bit width of " + std::to_string(width)};
  std::vector<std::uint32_t> out;
  out.reserve(count);
  std::size_t at = 0;
  const std::size_t value_bytes = (width + 7) / 8;
  while (out.size() < count) {
    std::uint64_t header = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (at >= in.size() || shift > 63) return Error{"levels or indices end early"};
      const auto b = static_cast<std::uint8_t>(in[at++]);
      header |= std::uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80u) == 0) break;
    }
    if ((header & 1) == 0) {  // a run of one value
      const std::uint64_t run = header >> 1;
      if (value_bytes > in.size() - at) return Error{"levels or indices end early"};
      std::uint32_t value = 0;
      for (std::size_t i = 0; i < value_bytes; ++i)
        value |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[at + i])) << (8 * i);
      at += value_bytes;
      if (run == 0) return Error{"an empty run"};
      for (std::uint64_t i = 0; i < run && out.size() < count; ++i) out.push_back(value);
    } else {  // groups of 8 bit-packed values, least significant bit first
      const std::uint64_t groups = header >> 1;
      if (groups == 0 || groups * width > in.size() - at) return Error{"levels or indices end early"};
      std::size_t next = at;  // the values' bytes, taken into `pending` as its bits are used
      at += groups * width;
      const std::uint64_t mask = (std::uint64_t{1} << width) - 1;
      std::uint64_t pending = 0;
      unsigned held = 0;  // bits in `pending`: below 32 + 8
      for (std::uint64_t i = 0; i < groups * 8 && out.size() < count; ++i) {
        while (held < width) {
          pending |= std::uint64_t{static_cast<std::uint8_t>(in[next++])} << held;
          held += 8;
        }
        out.push_back(static_cast<std::uint32_t>(pending & mask));
        pending >>= width;
        held -= width;
      }
    }
  }
  return out;
}

// PLAIN values of a column's type, `count` of them, as the column's kind.
struct Values {
  std::vector<std::int64_t> integers;
  std::vector<std::string_view> bytes;  // views into the page (or dictionary) buffer
};

common::Status plain(std::int64_t type, std::string_view in, std::uint64_t count, Values& out) {
  // Each value takes at least 4 bytes: a count the page cannot hold is an error below, not memory.
  const std::uint64_t room = std::min<std::uint64_t>(count, in.size() / 4);
  if (type == kByteArray) {
    out.bytes.reserve(room);
  } else {
    out.integers.reserve(room);
  }
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (type == kByteArray) {
      if (in.size() - at < 4) return Error{"PLAIN values end early"};
      std::uint32_t length = 0;
      std::memcpy(&length, in.data() + at, 4);  // little-endian, like every machine Debian runs us on
      at += 4;
      if (length > in.size() - at) return Error{"a PLAIN value runs past its page"};
      out.bytes.push_back(in.substr(at, length));
      at += length;
    } else {
      const std::size_t size = type == kInt32 ? 4 : 8;
      if (in.size() - at < size) return Error{"PLAIN values end early"};
      if (size == 4) {
        std::int32_t v = 0;
        std::memcpy(&v, in.data() + at, 4);
        out.integers.push_back(v);
      } else {
        std::int64_t v = 0;
        std::memcpy(&v, in.data() + at, 8);
        out.integers.push_back(v);
      }
      at += size;
    }
  }
  return common::Ok{};
}

// One column chunk's pages, appended to `column`.
common::Status read_chunk(std::string_view file, const ColumnMeta& meta, bool optional, Column& column) {
  if (meta.type != kInt32 && meta.type != kInt64 && meta.type != kByteArray) {
    return Error{"columns of type " + type_name(meta.type) + " are not read"};
  }
  std::int64_t position =
      meta.dictionary_page >= 0 && meta.dictionary_page < meta.data_page ? meta.dictionary_page : meta.data_page;
  // Pages decompressed; the values' views point into them, so they must never move (a deque's
  // elements stay put; a vector's would move, and short strings with them).
  PageBuffers buffers;
  Values dictionary;
  bool have_dictionary = false;
  std::uint32_t dictionary_first = 0;  // a bytes column: the number its dictionary's first value has there
  std::int64_t done = 0;
  while (done < meta.values) {
    if (position < 0 || static_cast<std::uint64_t>(position) >= file.size()) {
      return Error{"a page offset " + std::to_string(position) + " outside the file"};
    }
    ThriftReader in(file.substr(static_cast<std::size_t>(position)));
    auto header = page_header(in);
    if (!header) return common::wrap(header.error(), "page header at byte " + std::to_string(position));
    const std::size_t body_at = static_cast<std::size_t>(position) + in.position();
    if (static_cast<std::uint64_t>(header->compressed) > file.size() - body_at) {
      return Error{"the page at byte " + std::to_string(position) + " says it has " +
                   std::to_string(header->compressed) + " bytes, more than the file holds"};
    }
    const std::string_view body = file.substr(body_at, static_cast<std::size_t>(header->compressed));
    position = static_cast<std::int64_t>(body_at) + header->compressed;
    if (header->type == kDictionaryPage) {
      if (header->encoding != kPlain && header->encoding != kPlainDictionary) {
        return Error{"a dictionary page in " + encoding_name(header->encoding)};
      }
      auto bytes = decompress(meta.codec, body, header->uncompressed, buffers);
      if (!bytes) return bytes.error();
      dictionary = {};
      if (auto status = plain(meta.type, *bytes, static_cast<std::uint64_t>(header->values), dictionary); !status) {
        return status;
      }
      have_dictionary = true;
      if (meta.type == kByteArray) {
        if (dictionary.bytes.size() >= std::numeric_limits<std::uint32_t>::max() - column.value_count()) {
          return Error{"more distinct values than a column holds"};
        }
        dictionary_first = column.add_values(dictionary.bytes);
      }
      continue;
    }
    if (header->type != kDataPage && header->type != kDataPageV2) continue;  // index pages: not needed
    std::string_view levels, values;
    std::uint64_t count = static_cast<std::uint64_t>(header->values);
    if (header->type == kDataPage) {
      auto bytes = decompress(meta.codec, body, header->uncompressed, buffers);
      if (!bytes) return bytes.error();
      std::string_view page = *bytes;
      if (optional) {
        if (header->level_encoding != kRle)
          return Error{"definition levels in " + encoding_name(header->level_encoding)};
        if (page.size() < 4) return Error{"a data page ends before its levels"};
        std::uint32_t length = 0;
        std::memcpy(&length, page.data(), 4);
        if (length > page.size() - 4) return Error{"definition levels run past their page"};
        levels = page.substr(4, length);
        page.remove_prefix(4 + length);
      }
      values = page;
    } else {
      if (header->repetition_bytes != 0) return Error{"repetition levels (a repeated column) are not read"};
      if (static_cast<std::uint64_t>(header->definition_bytes) > body.size() ||
          header->definition_bytes > header->uncompressed) {
        return Error{"definition levels run past their page"};
      }
      levels = body.substr(0, static_cast<std::size_t>(header->definition_bytes));
      const std::string_view rest = body.substr(levels.size());
      const std::int64_t size = header->uncompressed - header->definition_bytes;
      if (header->values_compressed) {
        auto bytes = decompress(meta.codec, rest, size, buffers);
        if (!bytes) return bytes.error();
        values = *bytes;
      } else {
        values = rest;
      }
    }
    if (count > static_cast<std::uint64_t>(meta.values - done))
      return Error{"a page holds more values than its column"};
    std::vector<std::uint32_t> defined(count, 1);
    std::uint64_t present = count;
    if (optional) {
      auto decoded = hybrid(levels, 1, count);
      if (!decoded) return common::wrap(decoded.error(), "definition levels");
      defined = std::move(*decoded);
      present = 0;
      for (const std::uint32_t d : defined) present += d != 0 ? 1 : 0;
    }
    Values page_values;
    std::vector<std::uint32_t> references;  // a bytes column's dictionary-encoded page: value numbers
    if (header->encoding == kPlain) {
      if (auto status = plain(meta.type, values, present, page_values); !status) return status;
    } else if (header->encoding == kPlainDictionary || header->encoding == kRleDictionary) {
      if (!have_dictionary) return Error{"dictionary-encoded values without a dictionary page"};
      if (present > 0 && values.empty()) return Error{"dictionary indices missing"};
      const unsigned width = present > 0 ? static_cast<std::uint8_t>(values[0]) : 0;
      auto indices = present > 0 ? hybrid(values.substr(1), width, present) : std::vector<std::uint32_t>{};
      if (!indices) return common::wrap(indices.error(), "dictionary indices");
      const std::size_t entries = meta.type == kByteArray ? dictionary.bytes.size() : dictionary.integers.size();
      for (std::uint32_t& index : *indices) {
        if (index >= entries) {
          return Error{"dictionary index " + std::to_string(index) + " out of range (" + std::to_string(entries) +
                       " entries)"};
        }
        if (meta.type == kByteArray) {
          index += dictionary_first;
        } else {
          page_values.integers.push_back(dictionary.integers[index]);
        }
      }
      if (meta.type == kByteArray) references = std::move(*indices);
    } else {
      return Error{"values in " + encoding_name(header->encoding) + " are not read"};
    }
    std::size_t page_bytes = 0;
    for (const std::string_view value : page_values.bytes) page_bytes += value.size();
    column.reserve(defined.size(), page_bytes);
    std::size_t next = 0;
    for (const std::uint32_t d : defined) {
      if (d == 0) {
        column.add_null();
      } else if (!references.empty()) {
        column.add_reference(references[next++]);
      } else if (meta.type == kByteArray) {
        column.add_bytes(page_values.bytes[next++]);
      } else {
        column.add_integer(page_values.integers[next++]);
      }
    }
    done += static_cast<std::int64_t>(count);
  }
  return common::Ok{};
}

}  // namespace

std::optional<std::int64_t> Column::integer(std::size_t row) const {
  if (kind_ != Kind::Integer || !present_[row]) return std::nullopt;
  return integers_[row];
}

std::optional<std::string_view> Column::bytes(std::size_t row) const {
  if (kind_ != Kind::Bytes || rows_[row] == kNull) return std::nullopt;
  const std::uint32_t value = rows_[row];
  const std::uint64_t start = value == 0 ? 0 : ends_[value - 1];
  return std::string_view(blob_).substr(start, ends_[value] - start);
}

std::size_t Column::memory_bytes() const {
  return present_.capacity() / 8 + integers_.capacity() * sizeof(std::int64_t) + blob_.capacity() +
         ends_.capacity() * sizeof(std::uint64_t) + rows_.capacity() * sizeof(std::uint32_t);
}

void Column::reserve(std::size_t rows, std::size_t bytes) {
  if (kind_ == Kind::Integer) {
    present_.reserve(present_.size() + rows);
    integers_.reserve(integers_.size() + rows);
  } else {
    rows_.reserve(rows_.size() + rows);
    if (blob_.size() + bytes > blob_.capacity()) blob_.reserve(std::max(blob_.size() + bytes, 2 * blob_.capacity()));
  }
}

void Column::add_null() {
  if (kind_ == Kind::Integer) {
    present_.push_back(false);
    integers_.push_back(0);
  } else {
    rows_.push_back(kNull);
  }
}

void Column::add_integer(std::int64_t value) {
  present_.push_back(true);
  integers_.push_back(value);
}

void Column::add_bytes(std::string_view value) {
  rows_.push_back(value_count());
  blob_.append(value);
  ends_.push_back(blob_.size());
}

std::uint32_t Column::add_values(std::span<const std::string_view> values) {
  const std::uint32_t first = value_count();
  std::size_t bytes = 0;
  for (const std::string_view value : values) bytes += value.size();
  blob_.reserve(blob_.size() + bytes);
  ends_.reserve(ends_.size() + values.size());
  for (const std::string_view value : values) {
    blob_.append(value);
    ends_.push_back(blob_.size());
  }
  return first;
}

const Column* Table::column(std::string_view name) const {
  for (const Column& c : columns) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

namespace {

Result<Table> read_whole_table(std::string_view file, std::shared_ptr<BlockPool> pool) {
  constexpr std::string_view kMagic = "PAR1";
  if (file.size() < 12 || file.substr(0, 4) != kMagic || file.substr(file.size() - 4) != kMagic) {
    return Error{"not a Parquet file (no PAR1 at both ends)"};
  }
  std::uint32_t footer_length = 0;
  std::memcpy(&footer_length, file.data() + file.size() - 8, 4);
  if (footer_length > file.size() - 12) {
    return Error{"the footer says it has " + std::to_string(footer_length) + " bytes, more than the file holds"};
  }
  auto meta = file_meta(file.substr(file.size() - 8 - footer_length, footer_length));
  if (!meta) return meta.error();
  if (meta->schema.empty()) return Error{"a schema without a root"};
  Table table;
  // A refs file holds a record (kerchunk's default: 100,000 rows); a footer claiming far more is
  // refused before memory is taken for it.
  constexpr std::int64_t kMostRows = 1 << 24;
  if (meta->rows < 0 || meta->rows > kMostRows) {
    return Error{"a row count of " + std::to_string(meta->rows) + " (read: 0 to " + std::to_string(kMostRows) + ")"};
  }
  table.rows = static_cast<std::uint64_t>(meta->rows);
  auto arena = std::make_unique<MappedArena>(std::move(pool));
  std::pmr::memory_resource* memory = arena.get();
  table.memory = std::move(arena);
  std::vector<bool> optional;
  std::vector<std::int64_t> types;
  for (std::size_t i = 1; i < meta->schema.size(); ++i) {
    const SchemaElement& e = meta->schema[i];
    if (e.children != 0) return Error{"column " + e.name + " is nested (a group), which is not read"};
    if (e.repetition != kRequired && e.repetition != kOptional) {
      return Error{"column " + e.name + " is repeated, which is not read"};
    }
    if (e.type != kInt32 && e.type != kInt64 && e.type != kByteArray) {
      return Error{"column " + e.name + " is of type " + type_name(e.type) + ", which is not read"};
    }
    table.columns.emplace_back(e.name, e.type == kByteArray ? Column::Kind::Bytes : Column::Kind::Integer, memory);
    types.push_back(e.type);
    optional.push_back(e.repetition == kOptional);
  }
  if (meta->schema[0].children != static_cast<std::int64_t>(table.columns.size())) {
    return Error{"the schema's root has " + std::to_string(meta->schema[0].children) + " children, not " +
                 std::to_string(table.columns.size())};
  }
  std::vector<std::int64_t> values(table.columns.size());
  for (const auto& group : meta->row_groups) {
    if (group.size() != table.columns.size()) return Error{"a row group with another number of columns"};
    for (std::size_t c = 0; c < group.size(); ++c) values[c] += std::max<std::int64_t>(group[c].values, 0);
  }
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    if (values[c] != meta->rows) {
      return Error{"column " + table.columns[c].name() + ": its chunks hold " + std::to_string(values[c]) +
                   " values for " + std::to_string(meta->rows) + " rows"};
    }
    table.columns[c].reserve(table.rows);  // once: the arena does not take back what a vector outgrows
  }
  for (const auto& group : meta->row_groups) {
    for (std::size_t c = 0; c < group.size(); ++c) {
      if (group[c].type != types[c]) {
        return Error{"column " + table.columns[c].name() + ": a chunk of type " + type_name(group[c].type) +
                     " where the schema says " + type_name(types[c])};
      }
      if (auto status = read_chunk(file, group[c], optional[c], table.columns[c]); !status) {
        return common::wrap(status.error(), "column " + table.columns[c].name());
      }
    }
  }
  for (const Column& c : table.columns) {
    if (c.size() != table.rows) {
      return Error{"column " + c.name() + " has " + std::to_string(c.size()) + " values for " +
                   std::to_string(table.rows) + " rows"};
    }
  }
  return table;
}
}  // namespace

Result<Table> read_table(std::string_view file, std::shared_ptr<BlockPool> pool) {
  try {
    return read_whole_table(file, std::move(pool));
  } catch (const std::bad_alloc&) {  // the kernel refused a table's memory (MappedArena)
    return Error{"no memory for the table"};
  }
}

}  // namespace kerchunkfs::parquet
