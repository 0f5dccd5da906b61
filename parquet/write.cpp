// Writing a Parquet file the way kerchunk's reference sets need it: every column OPTIONAL, one row
// group, one v1 data page per column with RLE definition levels and PLAIN values, zstd-compressed;
// a BYTE_ARRAY column may be annotated as UTF-8 text.
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "parquet/parquet.h"

namespace kerchunkfs::parquet {
namespace {

// Thrift's compact protocol, writing.
class ThriftWriter {
 public:
  std::string& bytes() { return out_; }
  void field(std::int16_t id, std::uint8_t type) {
    const int delta = id - last_;
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_.push_back(static_cast<char>(type));
      varint(zigzag(id));
    }
    last_ = id;
  }
  void integer(std::int16_t id, std::uint8_t type, std::int64_t value) {
    field(id, type);
    varint(zigzag(value));
  }
  void i32(std::int16_t id, std::int64_t value) { integer(id, 5, value); }
  void i64(std::int16_t id, std::int64_t value) { integer(id, 6, value); }
  void binary(std::int16_t id, std::string_view value) {
    field(id, 8);
    binary_value(value);
  }
  void binary_value(std::string_view value) {
    varint(value.size());
    out_.append(value);
  }
  void list(std::int16_t id, std::uint8_t element, std::size_t size) {
    field(id, 9);
    list_header(element, size);
  }
  void list_header(std::uint8_t element, std::size_t size) {
    if (size < 15) {
      out_.push_back(static_cast<char>((size << 4) | element));
    } else {
      out_.push_back(static_cast<char>(0xF0 | element));
      varint(size);
    }
  }
  void zigzag_value(std::int64_t value) { varint(zigzag(value)); }
  // A struct: as a field (id > 0) or as a list element (id 0).
  void begin(std::int16_t id) {
    if (id > 0) field(id, 12);
    stack_.push_back(last_);
    last_ = 0;
  }
  void end() {
    out_.push_back(0);
    last_ = stack_.back();
    stack_.pop_back();
  }

 private:
  static std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
  std::int16_t last_ = 0;
  std::vector<std::int16_t> stack_;
};

// Definition levels (1 bit: present or not) as bit-packed groups of 8 in the hybrid encoding.
std::string definition_levels(const Column& column) {
  const std::size_t groups = (column.size() + 7) / 8;
  std::string out;
  std::uint64_t header = (std::uint64_t{groups} << 1) | 1;
  while (header >= 0x80) {
    out.push_back(static_cast<char>((header & 0x7F) | 0x80));
    header >>= 7;
  }
  out.push_back(static_cast<char>(header));
  std::string bits(groups, '\0');
  for (std::size_t row = 0; row < column.size(); ++row) {
    if (!column.is_null(row)) bits[row / 8] = static_cast<char>(bits[row / 8] | (1 << (row % 8)));
  }
  return out + bits;
}

}  // namespace

common::Result<std::string> write_table(const Table& table, std::span<const std::string_view> text_columns) {
  for (const Column& column : table.columns) {
    if (column.size() != table.rows) return common::Error{"column " + column.name() + " has another number of rows"};
  }
  std::string file = "PAR1";
  struct Written {
    std::int64_t offset = 0, compressed = 0, uncompressed = 0;
  };
  std::vector<Written> written;
  for (const Column& column : table.columns) {
    // The page: definition levels with their 4-byte length, then the present values, PLAIN.
    const std::string levels = definition_levels(column);
    std::string page(4, '\0');
    const auto length = static_cast<std::uint32_t>(levels.size());
    std::memcpy(page.data(), &length, 4);
    page += levels;
    for (std::size_t row = 0; row < column.size(); ++row) {
      if (column.is_null(row)) continue;
      if (column.kind() == Column::Kind::Integer) {
        const std::int64_t value = *column.integer(row);
        page.append(reinterpret_cast<const char*>(&value), 8);
      } else {
        const std::string_view value = *column.bytes(row);
        const auto size = static_cast<std::uint32_t>(value.size());
        page.append(reinterpret_cast<const char*>(&size), 4);
        page.append(value);
      }
    }
    std::string compressed(ZSTD_compressBound(page.size()), '\0');
    const std::size_t used = ZSTD_compress(compressed.data(), compressed.size(), page.data(), page.size(), 3);
    if (ZSTD_isError(used) != 0U) return common::Error{std::string("zstd: ") + ZSTD_getErrorName(used)};
    compressed.resize(used);
    ThriftWriter header;
    header.begin(0);
    header.i32(1, 0);  // DATA_PAGE
    header.i32(2, static_cast<std::int64_t>(page.size()));
    header.i32(3, static_cast<std::int64_t>(compressed.size()));
    header.begin(5);
    header.i32(1, static_cast<std::int64_t>(column.size()));
    header.i32(2, 0);  // PLAIN
    header.i32(3, 3);  // RLE definition levels
    header.i32(4, 3);  // RLE repetition levels (none written)
    header.end();
    header.end();
    Written w;
    w.offset = static_cast<std::int64_t>(file.size());
    w.uncompressed = static_cast<std::int64_t>(header.bytes().size() + page.size());
    w.compressed = static_cast<std::int64_t>(header.bytes().size() + compressed.size());
    file += header.bytes();
    file += compressed;
    written.push_back(w);
  }
  ThriftWriter meta;
  meta.begin(0);
  meta.i32(1, 1);  // version
  meta.list(2, 12, table.columns.size() + 1);
  meta.begin(0);  // the root
  meta.binary(4, "schema");
  meta.i32(5, static_cast<std::int64_t>(table.columns.size()));
  meta.end();
  for (const Column& column : table.columns) {
    const bool bytes = column.kind() == Column::Kind::Bytes;
    meta.begin(0);
    meta.i32(1, bytes ? 6 : 2);  // BYTE_ARRAY or INT64
    meta.i32(3, 1);              // OPTIONAL
    meta.binary(4, column.name());
    if (bytes && std::find(text_columns.begin(), text_columns.end(), column.name()) != text_columns.end()) {
      meta.i32(6, 0);  // converted type UTF8
    }
    meta.end();
  }
  meta.i64(3, static_cast<std::int64_t>(table.rows));
  meta.list(4, 12, 1);
  meta.begin(0);  // the one row group
  meta.list(1, 12, table.columns.size());
  std::int64_t total = 0;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    const Column& column = table.columns[c];
    meta.begin(0);  // ColumnChunk
    meta.i64(2, written[c].offset);
    meta.begin(3);  // ColumnMetaData
    meta.i32(1, column.kind() == Column::Kind::Bytes ? 6 : 2);
    meta.list(2, 5, 2);
    meta.bytes().push_back(0);  // PLAIN (zigzag 0)
    meta.zigzag_value(3);       // RLE
    meta.list(3, 8, 1);
    meta.binary_value(column.name());
    meta.i32(4, 6);  // ZSTD
    meta.i64(5, static_cast<std::int64_t>(column.size()));
    meta.i64(6, written[c].uncompressed);
    meta.i64(7, written[c].compressed);
    meta.i64(9, written[c].offset);
    meta.end();
    meta.end();
    total += written[c].uncompressed;
  }
  meta.i64(2, total);
  meta.i64(3, static_cast<std::int64_t>(table.rows));
  meta.end();
  meta.binary(6, "kerchunkfs");
  meta.end();
  file += meta.bytes();
  const auto footer = static_cast<std::uint32_t>(meta.bytes().size());
  file.append(reinterpret_cast<const char*>(&footer), 4);
  file += "PAR1";
  return file;
}

}  // namespace kerchunkfs::parquet
