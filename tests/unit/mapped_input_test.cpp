#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "refstore/refstore.h"
#include "refstore_test_util.h"

using namespace kerchunkfs::refstore;
using kerchunkfs::refstore::testing::error_message;
using kerchunkfs::refstore::testing::loaded;

namespace {

std::string temp_path(const char* name) { return std::string("kerchunkfs-unit-") + name; }

}  // namespace

TEST_CASE("a file of exactly one page parses: simdjson's padding lies in the zero tail") {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::string json = R"({"k": ["data.bin", 7, 9]})";
  json.resize(page, ' ');
  const std::string path = temp_path("page.json");
  std::ofstream(path, std::ios::binary) << json;
  const RefStore store = loaded(RefStore::load_file(path, LoadOptions{}));
  const Entry entry = store.entry(*store.find("k"));
  CHECK(entry.offset == 7);
  CHECK(entry.length == 9);
  std::remove(path.c_str());
}

TEST_CASE("an empty file is invalid JSON") {
  const std::string path = temp_path("empty.json");
  std::ofstream(path, std::ios::binary).flush();
  CHECK_THAT(error_message(RefStore::load_file(path, LoadOptions{})), Catch::Contains(path + ": invalid JSON"));
  std::remove(path.c_str());
}

TEST_CASE("a pipe is read to its end, as from a shell's process substitution") {
  const std::string path = temp_path("fifo");
  std::remove(path.c_str());
  REQUIRE(mkfifo(path.c_str(), 0600) == 0);
  std::thread writer([&] {
    std::ofstream fifo(path, std::ios::binary);
    fifo << "{";
    for (int i = 0; i < 20000; ++i) fifo << (i ? "," : "") << "\"v/" << i << "\": [\"f\", " << i << ", 1]";
    fifo << "}";
  });
  const RefStore store = loaded(RefStore::load_file(path, LoadOptions{}));
  writer.join();
  CHECK(store.entry(*store.find("v/19999")).offset == 19999);
  std::remove(path.c_str());
}
