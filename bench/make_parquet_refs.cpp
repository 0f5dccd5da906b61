// Writes a synthetic reference set of N chunk references in kerchunk's parquet layout with our
// writer: 4 one-dimensional float arrays of N/4 chunks each, every chunk a range of one of 1000
// files (as a daily aggregation's would be).
// Usage: kerchunkfs-bench-make-parquet DIR.parq N [RECORD_SIZE]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "parquet/parquet.h"

int main(int argc, char* argv[]) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR.parq N [RECORD_SIZE]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const std::uint64_t total = std::strtoull(argv[2], nullptr, 10);
  const std::uint64_t record_size = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100'000;
  const std::uint64_t per_array = total / 4;
  std::filesystem::create_directories(root);
  std::string metadata = R"({"metadata": {".zgroup": {"zarr_format": 2})";
  for (int a = 0; a < 4; ++a) {
    const std::string name = "v" + std::to_string(a);
    metadata += ", \"" + name + "/.zarray\": {\"chunks\": [1000], \"compressor\": {\"id\": \"zlib\", \"level\": 1}, " +
                "\"dtype\": \"<f4\", \"fill_value\": 0.0, \"filters\": null, \"order\": \"C\", \"shape\": [" +
                std::to_string(per_array * 1000) + "], \"zarr_format\": 2}";
    metadata += ", \"" + name + "/.zattrs\": {\"_ARRAY_DIMENSIONS\": [\"x\"]}";
    std::filesystem::create_directories(root / name);
    for (std::uint64_t first = 0, k = 0; first < per_array; first += record_size, ++k) {
      kerchunkfs::parquet::Table table;
      table.rows = record_size;
      table.columns = {kerchunkfs::parquet::Column("path", kerchunkfs::parquet::Column::Kind::Bytes),
                       kerchunkfs::parquet::Column("offset", kerchunkfs::parquet::Column::Kind::Integer),
                       kerchunkfs::parquet::Column("size", kerchunkfs::parquet::Column::Kind::Integer),
                       kerchunkfs::parquet::Column("raw", kerchunkfs::parquet::Column::Kind::Bytes)};
      for (std::uint64_t i = first; i < first + record_size; ++i) {
        if (i >= per_array) {
          table.columns[0].add_null();
          table.columns[1].add_integer(0);
          table.columns[2].add_integer(0);
        } else {
          table.columns[0].add_bytes("s3://bucket/data/day" + std::to_string(i % 1000) + ".nc");
          table.columns[1].add_integer(static_cast<std::int64_t>(4096 + (i / 1000) * 2000));
          table.columns[2].add_integer(1900 + static_cast<std::int64_t>(i % 97));
        }
        table.columns[3].add_null();
      }
      const std::string_view text[] = {"path"};
      const auto bytes = kerchunkfs::parquet::write_table(table, text);
      if (!bytes) {
        std::fprintf(stderr, "%s\n", bytes.error().message.c_str());
        return 1;
      }
      std::ofstream out(root / name / ("refs." + std::to_string(k) + ".parq"), std::ios::binary);
      out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    }
  }
  metadata += "}, \"record_size\": " + std::to_string(record_size) + "}\n";
  std::ofstream(root / ".zmetadata") << metadata;
  return 0;
}
