#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/fuzz/targets.h"

// Every input a fuzzer once found a problem with goes through its target again: returning is
// the test (a crash, a sanitizer report or a trap fails the run).
TEST_CASE("saved fuzzer findings no longer fail") {
  const std::filesystem::path root = KERCHUNKFS_FUZZ_REGRESSIONS;
  const std::pair<const char*, void (*)(const std::uint8_t*, std::size_t)> targets[] = {
      {"refstore", kerchunkfs::fuzz::refstore_input}, {"http", kerchunkfs::fuzz::http_input},
      {"scan", kerchunkfs::fuzz::scan_input},         {"codec", kerchunkfs::fuzz::codec_input},
      {"parquet", kerchunkfs::fuzz::parquet_input},   {"dmrpp", kerchunkfs::fuzz::dmrpp_input},
  };
  std::size_t replayed = 0;
  for (const auto& [name, target] : targets) {
    if (!std::filesystem::exists(root / name)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root / name)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      INFO(entry.path().string());
      target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  SUCCEED(std::to_string(replayed) + " findings replayed");
}
