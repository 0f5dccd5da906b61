// The decoded view through Filesystem with a fake source: decoded chunks, assembled arrays, and
// the raw mount's refusal of assembled arrays. Decoding answers on a worker thread: reads wait.
#include <zlib.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <string>

#include "daemon/filesystem.h"
#include "filesystem_fixture.h"

using namespace kerchunkfs;

namespace {

// A mount with -o decode (or without), two decoding threads.
struct Fixture : testing::FilesystemFixture {
  Fixture(const std::string& json, bool decode)
      : FilesystemFixture(json, [decode](daemon::FilesystemOptions& options) {
          options.decode = decode;
          options.decode_cache_bytes = 1 << 20;
          options.decode_threads = 2;
        }) {}
  std::string read(std::string_view key) { return FilesystemFixture::read(path(key)); }
  std::vector<std::string> list(std::string_view key) { return FilesystemFixture::list(path(key)); }
};

std::string compressed(const std::string& raw) {
  uLongf size = compressBound(raw.size());
  std::string out(size, '\0');
  REQUIRE(compress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                   raw.size()) == Z_OK);
  out.resize(size);
  return out;
}

std::string quoted(const std::string& json) {
  std::string out = "\"";
  for (const char c : json) out += c == '"' ? std::string("\\\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

TEST_CASE("the decoded view shows chunks decoded and metadata without codecs") {
  const std::string first(8, 'a'), second = "bbbbcccc";
  const std::string stored = compressed(first) + compressed(second);
  const std::string set = R"({"v/.zarray": )" +
                          quoted(R"({"shape": [16], "chunks": [8], "dtype": "|u1", "compressor": {"id": "zlib"}})") +
                          R"(, "v/0": ["http://h/d", 0, )" + std::to_string(compressed(first).size()) +
                          R"(], "v/1": ["http://h/d", )" + std::to_string(compressed(first).size()) + ", " +
                          std::to_string(compressed(second).size()) + R"(], "v/bad": ["http://h/d", 0, 3]})";
  Fixture f(set, true);
  f.source->put("http://h/d", stored);
  CHECK_THAT(f.read("v/.zarray"), Catch::Contains(R"("compressor": null)") && Catch::Contains(R"("filters": null)"));
  CHECK(f.try_lookup(f.path("v"), "1")->attr.st_size == 8);
  CHECK(f.read("v/1") == second);
  CHECK(f.read("v/0") == first);
  CHECK(f.read("v/bad").size() == 3);  // not a chunk name: shown as stored
  CHECK_THAT(f.read(".zmetadata"), Catch::Contains(R"("compressor": null)"));

  Fixture raw(set, false);
  raw.source->put("http://h/d", stored);
  CHECK(raw.read("v/1") == compressed(second));
}

TEST_CASE("an assembled array is shown with a regular grid, its chunks made from the files' chunks") {
  // Two files of 3 and 2 steps, one chunk each: assembled into chunks of 2 steps.
  const std::string part = R"({"shape": [N], "chunks": [N], "dtype": "|u1", "compressor": null, "fill_value": 0})";
  const auto part_meta = [&](int n) {
    std::string text = part;
    for (auto at = text.find('N'); at != std::string::npos; at = text.find('N')) text.replace(at, 1, std::to_string(n));
    return quoted(text);
  };
  const std::string assembled =
      R"({"shape": [5], "chunks": [2], "dtype": "|u1", "fill_value": 0, "compressor": {"id": "kerchunkfs.assembled", "axis": 0, "unpack": false, "parts": [{"key": ".kerchunkfs/0", "offset": 0, "length": 3}, {"key": ".kerchunkfs/1", "offset": 3, "length": 2}]}})";
  const std::string set = R"({"a/.zarray": )" + quoted(assembled) + R"(, "a/.kerchunkfs/0/.zarray": )" + part_meta(3) +
                          R"(, "a/.kerchunkfs/0/0": ["http://h/d", 0, 3], "a/.kerchunkfs/1/.zarray": )" + part_meta(2) +
                          R"(, "a/.kerchunkfs/1/0": ["http://h/d", 3, 2]})";
  Fixture f(set, true);
  f.source->put("http://h/d", "ABCDE");
  CHECK(f.read("a/0") == "AB");
  CHECK(f.read("a/1") == "CD");
  CHECK(f.read("a/2") == std::string("E\0", 2));  // the edge chunk, padded
  CHECK_FALSE(f.try_lookup(f.path("a"), ".kerchunkfs")->ino);
  CHECK_FALSE(f.try_lookup(f.path("a"), "3")->ino);
  CHECK(f.list("a") == std::vector<std::string>{".", "..", ".zarray", "0", "1", "2"});
  CHECK_THAT(f.read("a/.zarray"), Catch::Contains(R"("compressor": null)") && Catch::Contains(R"("chunks": [2])"));

  Fixture raw(set, false);
  const auto refused = raw.try_lookup(raw.path("a"), ".zarray");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == EIO);
  CHECK_THAT(refused.error().message, Catch::Contains("mount with -o decode"));
}
