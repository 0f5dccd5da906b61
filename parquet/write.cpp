// Writing a Parquet file the way kerchunk's reference sets need it: every column OPTIONAL, one row
// group, one v1 data page per column with RLE definition levels, zstd-compressed; a BYTE_ARRAY
// column of repeated values (a set's few target paths) goes through a dictionary page and
// RLE_DICTIONARY indices, as pyarrow and fastparquet write it, the others PLAIN; a BYTE_ARRAY
// column may be annotated as UTF-8 text.
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <unordered_map>

#include "parquet/parquet.h"

namespace kerchunkfs::parquet {
namespace {

// parquet-format's numbers for the page types and encodings written here.
constexpr int kDataPage = 0;
constexpr int kDictionaryPage = 2;
constexpr int kPlain = 0;
constexpr int kRle = 3;
constexpr int kRleDictionary = 8;

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

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
  void varint(std::uint64_t v) { append_varint(out_, v); }
  std::string out_;
  std::int16_t last_ = 0;
  std::vector<std::int16_t> stack_;
};

// `values` of `width` bits as bit-packed groups of 8 in the RLE/bit-packed hybrid encoding (the
// last group padded with zeros, which readers do not take).
std::string bit_packed(const std::vector<std::uint32_t>& values, unsigned width) {
  const std::size_t groups = (values.size() + 7) / 8;
  std::string out;
  append_varint(out, (std::uint64_t{groups} << 1) | 1);
  std::string bits(groups * width, '\0');
  std::uint64_t bit = 0;
  for (const std::uint32_t value : values) {
    for (unsigned b = 0; b < width; ++b, ++bit) {
      if (((value >> b) & 1U) != 0) bits[bit / 8] = static_cast<char>(bits[bit / 8] | (1 << (bit % 8)));
    }
  }
  return out + bits;
}

// Definition levels (1 bit: present or not).
std::string definition_levels(const Column& column) {
  std::vector<std::uint32_t> present(column.size());
  for (std::size_t row = 0; row < column.size(); ++row) present[row] = column.is_null(row) ? 0 : 1;
  return bit_packed(present, 1);
}

// A bytes column's distinct values and each present row's index among them, when a dictionary
// pays: its values repeat (half the rows or fewer are distinct) and the dictionary stays under
// 1 MiB, the page size past which writers fall back to PLAIN.
struct Dictionary {
  std::vector<std::string_view> values;
  std::vector<std::uint32_t> indices;
};
std::optional<Dictionary> dictionary_of(const Column& column) {
  constexpr std::size_t kLargest = 1 << 20;
  if (column.kind() != Column::Kind::Bytes) return std::nullopt;
  Dictionary d;
  std::unordered_map<std::string_view, std::uint32_t> numbers;
  std::size_t bytes = 0;
  for (std::size_t row = 0; row < column.size(); ++row) {
    const auto value = column.bytes(row);
    if (!value) continue;
    const auto [found, added] = numbers.emplace(*value, static_cast<std::uint32_t>(d.values.size()));
    if (added) {
      d.values.push_back(*value);
      bytes += 4 + value->size();
      if (bytes > kLargest || d.values.size() * 2 > column.size()) return std::nullopt;
    }
    d.indices.push_back(found->second);
  }
  return d;
}

// Appends a page: its header, then its bytes compressed with zstd. Returns the header's size.
common::Result<std::size_t> append_page(std::string& file, const std::string& page, int type, std::size_t values,
                                        int encoding) {
  std::string compressed(ZSTD_compressBound(page.size()), '\0');
  const std::size_t used = ZSTD_compress(compressed.data(), compressed.size(), page.data(), page.size(), 3);
  if (ZSTD_isError(used) != 0U) return common::Error{std::string("zstd: ") + ZSTD_getErrorName(used)};
  compressed.resize(used);
  ThriftWriter header;
  header.begin(0);
  header.i32(1, type);
  header.i32(2, static_cast<std::int64_t>(page.size()));
  header.i32(3, static_cast<std::int64_t>(compressed.size()));
  if (type == kDictionaryPage) {
    header.begin(7);
    header.i32(1, static_cast<std::int64_t>(values));
    header.i32(2, encoding);
  } else {
    header.begin(5);
    header.i32(1, static_cast<std::int64_t>(values));
    header.i32(2, encoding);
    header.i32(3, kRle);  // definition levels
    header.i32(4, kRle);  // repetition levels (none written)
  }
  header.end();
  header.end();
  file += header.bytes();
  file += compressed;
  return header.bytes().size() + page.size();
}

}  // namespace

common::Result<std::string> write_table(const Table& table, std::span<const std::string_view> text_columns) {
  for (const Column& column : table.columns) {
    if (column.size() != table.rows) return common::Error{"column " + column.name() + " has another number of rows"};
  }
  std::string file = "PAR1";
  struct Written {
    std::int64_t data_offset = 0, dictionary_offset = 0, compressed = 0, uncompressed = 0;
    bool dictionary = false;
  };
  std::vector<Written> written;
  for (const Column& column : table.columns) {
    Written w;
    const std::optional<Dictionary> dictionary = dictionary_of(column);
    // The data page: definition levels with their 4-byte length, then the present values.
    const std::string levels = definition_levels(column);
    std::string page(4, '\0');
    const auto length = static_cast<std::uint32_t>(levels.size());
    std::memcpy(page.data(), &length, 4);
    page += levels;
    if (dictionary) {
      std::string values;
      for (const std::string_view value : dictionary->values) {
        const auto size = static_cast<std::uint32_t>(value.size());
        values.append(reinterpret_cast<const char*>(&size), 4);
        values.append(value);
      }
      w.dictionary_offset = static_cast<std::int64_t>(file.size());
      auto size = append_page(file, values, kDictionaryPage, dictionary->values.size(), kPlain);
      if (!size) return size.error();
      w.uncompressed += static_cast<std::int64_t>(*size);
      const auto width = std::max(1U, static_cast<unsigned>(std::bit_width(dictionary->values.size() - 1)));
      page.push_back(static_cast<char>(width));
      page += bit_packed(dictionary->indices, width);
    } else {
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
    }
    w.data_offset = static_cast<std::int64_t>(file.size());
    auto size = append_page(file, page, kDataPage, column.size(), dictionary ? kRleDictionary : kPlain);
    if (!size) return size.error();
    w.uncompressed += static_cast<std::int64_t>(*size);
    const std::int64_t first = dictionary ? w.dictionary_offset : w.data_offset;
    w.compressed = static_cast<std::int64_t>(file.size()) - first;
    w.dictionary = dictionary.has_value();
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
    const Written& w = written[c];
    const std::int64_t first = w.dictionary ? w.dictionary_offset : w.data_offset;
    meta.begin(0);  // ColumnChunk
    meta.i64(2, first);
    meta.begin(3);  // ColumnMetaData
    meta.i32(1, column.kind() == Column::Kind::Bytes ? 6 : 2);
    meta.list(2, 5, w.dictionary ? 3 : 2);
    meta.zigzag_value(kPlain);
    meta.zigzag_value(kRle);
    if (w.dictionary) meta.zigzag_value(kRleDictionary);
    meta.list(3, 8, 1);
    meta.binary_value(column.name());
    meta.i32(4, 6);  // ZSTD
    meta.i64(5, static_cast<std::int64_t>(column.size()));
    meta.i64(6, w.uncompressed);
    meta.i64(7, w.compressed);
    meta.i64(9, w.data_offset);
    if (w.dictionary) meta.i64(11, w.dictionary_offset);
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
