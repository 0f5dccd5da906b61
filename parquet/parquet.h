// The small part of Apache Parquet that kerchunk's reference sets use (parquet-format is the
// reference): flat tables of INT32/INT64 and BYTE_ARRAY columns, REQUIRED or OPTIONAL; PLAIN,
// RLE/bit-packed hybrid levels and PLAIN_DICTIONARY/RLE_DICTIONARY values; data pages v1 and v2;
// uncompressed, snappy, gzip, zstd and lz4_raw pages. Anything else (another encoding or type, a
// nested or repeated schema) is refused by name, never guessed. Every length read is checked
// against the bytes there are, so a file that lies about a size is an error, not a read past it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kerchunkfs::parquet {

// One column of a table: a value or null for each row.
class Column {
 public:
  enum class Kind { Integer, Bytes };
  Column(std::string name, Kind kind) : name_(std::move(name)), kind_(kind) {}

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  std::size_t size() const { return present_.size(); }
  bool is_null(std::size_t row) const { return !present_[row]; }
  std::optional<std::int64_t> integer(std::size_t row) const;
  std::optional<std::string_view> bytes(std::size_t row) const;

  void add_null();
  void add_integer(std::int64_t value);
  void add_bytes(std::string_view value);
  // Room for `rows` more rows (of `bytes` bytes in all), taken at once rather than by doubling.
  void reserve(std::size_t rows, std::size_t bytes = 0);

 private:
  std::string name_;
  Kind kind_;
  std::vector<bool> present_;
  std::vector<std::int64_t> integers_;  // Integer: one per row (0 for null)
  std::string blob_;                    // Bytes: every value, one after the other
  std::vector<std::uint64_t> ends_;     // Bytes: where each row's value ends in the blob
};

struct Table {
  std::uint64_t rows = 0;
  std::vector<Column> columns;
  const Column* column(std::string_view name) const;
};

// The table in a whole Parquet file's bytes; an error names what is wrong and where.
[[nodiscard]] common::Result<Table> read_table(std::string_view file);

// A Parquet file holding `table`: every column OPTIONAL (INT64 or BYTE_ARRAY, those named in
// `text_columns` annotated as UTF-8), one row group, zstd-compressed pages.
[[nodiscard]] common::Result<std::string> write_table(const Table& table,
                                                      std::span<const std::string_view> text_columns = {});

}  // namespace kerchunkfs::parquet
