#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "parquet/parquet.h"

using kerchunkfs::parquet::BlockPool;
using kerchunkfs::parquet::Column;
using kerchunkfs::parquet::Table;

namespace {

// 100,000 references over 1000 paths (written through a dictionary page), nulls among them, and
// inline values of their own (written PLAIN).
Table references(std::size_t rows) {
  Table table;
  table.rows = rows;
  table.columns = {Column("path", Column::Kind::Bytes), Column("offset", Column::Kind::Integer),
                   Column("raw", Column::Kind::Bytes)};
  for (std::size_t i = 0; i < rows; ++i) {
    if (i % 7 == 0) {
      table.columns[0].add_null();
      table.columns[1].add_null();
      table.columns[2].add_bytes("inline " + std::to_string(i));
    } else {
      table.columns[0].add_bytes("s3://bucket/day" + std::to_string(i % 1000) + ".nc");
      table.columns[1].add_integer(static_cast<std::int64_t>(i) * 4096);
      table.columns[2].add_null();
    }
  }
  return table;
}

void require_same(const Table& a, const Table& b) {
  REQUIRE(a.rows == b.rows);
  REQUIRE(a.columns.size() == b.columns.size());
  std::size_t differ = 0;  // counted rather than asserted row by row: 300,000 values
  for (std::size_t c = 0; c < a.columns.size(); ++c) {
    for (std::size_t row = 0; row < a.rows; ++row) {
      differ += a.columns[c].bytes(row) != b.columns[c].bytes(row) ? 1 : 0;
      differ += a.columns[c].integer(row) != b.columns[c].integer(row) ? 1 : 0;
    }
  }
  REQUIRE(differ == 0);
}

}  // namespace

TEST_CASE("a table written with a dictionary of paths reads back row for row, its memory from a pool") {
  const Table written = references(100'000);
  const auto file = kerchunkfs::parquet::write_table(written);
  REQUIRE(file);
  const auto pool = std::make_shared<BlockPool>(64 << 20);
  {
    const auto read = kerchunkfs::parquet::read_table(*file, pool);
    REQUIRE(read);
    require_same(written, *read);
    // Paths are kept once each: 4 bytes a row, not a copy of the path.
    REQUIRE(read->column("path")->memory_bytes() < 100'000 * 6);
    REQUIRE(pool->spare_blocks() == 0);
  }
  const std::size_t given_back = pool->spare_blocks();
  REQUIRE(given_back > 0);  // the table's blocks, mapped still, for the next table
  const auto again = kerchunkfs::parquet::read_table(*file, pool);
  REQUIRE(again);
  require_same(written, *again);
  REQUIRE(pool->spare_blocks() == 0);  // taken again rather than mapped anew
}

TEST_CASE("a block pool keeps no more spare blocks than its bound") {
  const auto pool = std::make_shared<BlockPool>(2 * BlockPool::kBlockSize);
  const Table written = references(300'000);
  const auto file = kerchunkfs::parquet::write_table(written);
  REQUIRE(file);
  { REQUIRE(kerchunkfs::parquet::read_table(*file, pool)); }
  REQUIRE(pool->spare_blocks() == 2);
}

TEST_CASE("a footer claiming more rows than a refs file holds is refused before memory is taken") {
  const auto file = kerchunkfs::parquet::write_table(references(10));
  REQUIRE(file);
  // The footer's row count (field 3, an i64 after the schema: header byte 0x16, then the zigzag
  // varint of 10) made 2^24 + 1; the footer's length after it follows.
  std::uint32_t length = 0;
  std::memcpy(&length, file->data() + file->size() - 8, 4);
  std::string footer = file->substr(file->size() - 8 - length, length);
  const std::size_t at = footer.find("\x16\x14");
  REQUIRE(at != std::string::npos);
  footer.replace(at + 1, 1, "\x82\x80\x80\x10");  // zigzag(16777217) = 33554434
  length = static_cast<std::uint32_t>(footer.size());
  std::string changed = file->substr(0, file->size() - 8 - (footer.size() - 3)) + footer;
  changed.append(reinterpret_cast<const char*>(&length), 4);
  changed += "PAR1";
  const auto read = kerchunkfs::parquet::read_table(changed);
  REQUIRE(!read);
  REQUIRE(read.error().message == "a row count of 16777217 (read: 0 to 16777216)");
}
