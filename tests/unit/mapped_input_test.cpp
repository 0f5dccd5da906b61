#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "refstore/load_error.h"
#include "refstore/mapped_input.h"
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

TEST_CASE("read() copies the file's bytes without the mapping, and names a file that shrank") {
  const std::string path = "kerchunkfs-unit-mapped-read.json";
  std::string text = "{";
  for (int i = 0; i < 3000; ++i) text += (i ? ", " : "") + std::string("\"k") + std::to_string(i) + "\": 1";
  text += "}";
  {
    std::ofstream out(path);
    out << text;
  }
  MappedInput input(path);
  std::string copy(100, '\0');
  input.read(text.size() - 100, copy.data(), 100);
  CHECK(copy == text.substr(text.size() - 100));
  input.read(7, copy.data(), 50);
  CHECK(copy.substr(0, 50) == text.substr(7, 50));
  { std::ofstream truncate(path); }
  CHECK_THROWS_WITH(input.read(0, copy.data(), 10), path + ": the file shrank while it was read");
  std::remove(path.c_str());
}
