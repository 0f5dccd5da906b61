// Prints the rows of Parquet reference files as our reader reads them, one JSON array per file
// given: [{"path", "offset", "size", "raw" (base64)}, ...], the form tests/e2e/parquet_dump.mjs
// prints with hyparquet, so that a test compares the two readers. A file that does not read
// prints "error: MESSAGE" on its line instead, and the exit status is 1.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "parquet/parquet.h"
#include "refstore/base64.h"
#include "refstore/writer.h"

namespace {

std::string integer_or_null(const kerchunkfs::parquet::Column* column, std::size_t row) {
  const auto value = column != nullptr ? column->integer(row) : std::nullopt;
  return value ? std::to_string(*value) : "null";
}

}  // namespace

int main(int argc, char* argv[]) {
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto table = kerchunkfs::parquet::read_table(bytes);
    if (!table) {
      std::cout << "error: " << table.error().message << "\n";
      status = 1;
      continue;
    }
    const auto* path = table->column("path");
    const auto* offset = table->column("offset");
    const auto* size = table->column("size");
    const auto* raw = table->column("raw");
    std::cout << "[";
    for (std::size_t row = 0; row < table->rows; ++row) {
      const auto p = path != nullptr ? path->bytes(row) : std::nullopt;
      const auto r = raw != nullptr ? raw->bytes(row) : std::nullopt;
      std::cout << (row ? "," : "") << "{\"path\":" << (p ? kerchunkfs::refstore::json_quote(std::string(*p)) : "null")
                << ",\"offset\":" << integer_or_null(offset, row) << ",\"size\":" << integer_or_null(size, row)
                << ",\"raw\":" << (r ? "\"" + kerchunkfs::refstore::base64_encode(*r) + "\"" : "null") << "}";
    }
    std::cout << "]\n";
  }
  return status;
}
