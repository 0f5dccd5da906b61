// The small part of Apache Parquet that kerchunk's reference sets use (parquet-format is the
// reference): flat tables of INT32/INT64 and BYTE_ARRAY columns, REQUIRED or OPTIONAL; PLAIN,
// RLE/bit-packed hybrid levels and PLAIN_DICTIONARY/RLE_DICTIONARY values; data pages v1 and v2;
// uncompressed, snappy, gzip, zstd and lz4_raw pages. Anything else (another encoding or type, a
// nested or repeated schema) is refused by name, never guessed. Every length read is checked
// against the bytes there are, so a file that lies about a size is an error, not a read past it.
#pragma once

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kerchunkfs::parquet {

// One column of a table: a value or null for each row. A column of bytes keeps each distinct
// value a dictionary page held once, and its rows refer to it, so that a column of a few paths
// repeated over 100,000 rows takes 4 bytes a row rather than a copy of its path.
class Column {
 public:
  enum class Kind { Integer, Bytes };
  // Its values in `memory` (a table's MappedArena when read; the heap by default).
  Column(std::string name, Kind kind, std::pmr::memory_resource* memory = std::pmr::get_default_resource())
      : name_(std::move(name)),
        kind_(kind),
        present_(memory),
        integers_(memory),
        blob_(memory),
        ends_(memory),
        rows_(memory) {}

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  std::size_t size() const { return kind_ == Kind::Integer ? present_.size() : rows_.size(); }
  bool is_null(std::size_t row) const { return kind_ == Kind::Integer ? !present_[row] : rows_[row] == kNull; }
  std::optional<std::int64_t> integer(std::size_t row) const;
  std::optional<std::string_view> bytes(std::size_t row) const;
  // The memory the column holds, for caches' budgets.
  std::size_t memory_bytes() const;

  void add_null();
  void add_integer(std::int64_t value);
  // A row holding `value` (bytes), kept for this row alone.
  void add_bytes(std::string_view value);
  // Values rows will refer to by number (a dictionary page's): the number of the first.
  std::uint32_t add_values(std::span<const std::string_view> values);
  // A row holding value number `value` of those added.
  void add_reference(std::uint32_t value) { rows_.push_back(value); }
  std::uint32_t value_count() const { return static_cast<std::uint32_t>(ends_.size()); }
  // Room for `rows` more rows (of `bytes` bytes in all), taken at once rather than by doubling.
  void reserve(std::size_t rows, std::size_t bytes = 0);

 private:
  static constexpr std::uint32_t kNull = ~std::uint32_t{0};
  std::string name_;
  Kind kind_;
  std::pmr::vector<bool> present_;           // Integer: whether each row has a value
  std::pmr::vector<std::int64_t> integers_;  // Integer: one per row (0 for null)
  std::pmr::string blob_;                    // Bytes: every value, one after the other
  std::pmr::vector<std::uint64_t> ends_;     // Bytes: where each value ends in the blob
  std::pmr::vector<std::uint32_t> rows_;     // Bytes: each row's value number, kNull for null
};

struct Table {
  std::unique_ptr<std::pmr::memory_resource> memory;  // the columns' values, when they are not on the heap
  std::uint64_t rows = 0;
  std::vector<Column> columns;
  const Column* column(std::string_view name) const;
};

// Spare blocks of memory (kBlockSize bytes, mapped and ready) that tables read with it take their
// memory from and give back when they go (mapped_arena.h says why), up to a bound.
class BlockPool {
 public:
  static constexpr std::size_t kBlockSize = 1 << 20;
  explicit BlockPool(std::size_t most_spare_bytes) : most_spare_(most_spare_bytes / kBlockSize) {}
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool();
  // A spare block, or null when there is none.
  void* take();
  // Keeps `block` for reuse, or unmaps it when the pool is full.
  void give(void* block);
  std::size_t spare_blocks();

 private:
  std::mutex mutex_;
  const std::size_t most_spare_;
  std::vector<void*> spare_;
};

// The table in a whole Parquet file's bytes, its values in memory of its own (from `pool` when
// given); an error names what is wrong and where.
[[nodiscard]] common::Result<Table> read_table(std::string_view file, std::shared_ptr<BlockPool> pool = nullptr);

// A Parquet file holding `table`: every column OPTIONAL (INT64 or BYTE_ARRAY, those named in
// `text_columns` annotated as UTF-8), one row group, zstd-compressed pages.
[[nodiscard]] common::Result<std::string> write_table(const Table& table,
                                                      std::span<const std::string_view> text_columns = {});

}  // namespace kerchunkfs::parquet
