#include "fetch/disk_cache.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using kerchunkfs::fetch::Bytes;
using kerchunkfs::fetch::DiskCache;
using kerchunkfs::fetch::DiskCacheOptions;

namespace {

struct TemporaryDirectory {
  TemporaryDirectory() {
    char name[] = "/tmp/kerchunkfs-disk-cache-XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TemporaryDirectory() { std::filesystem::remove_all(path); }
  std::string path;
};

std::unique_ptr<DiskCache> opened(const std::string& directory) {
  DiskCacheOptions options;
  options.directory = directory;
  auto cache = DiskCache::open(options);
  REQUIRE(cache);
  return std::move(*cache);
}

}  // namespace

TEST_CASE("every block of new objects is kept when the workers write them at once") {
  // Both workers record a new object as their first block of it goes: each record is written
  // under a name of its own, so neither loses its block.
  const TemporaryDirectory directory;
  constexpr int kObjects = 40, kBlocks = 8;
  {
    const auto cache = opened(directory.path);
    for (int object = 0; object < kObjects; ++object) {
      for (int block = 0; block < kBlocks; ++block) {
        cache->write("https://host/object" + std::to_string(object), "ETag \"v1\"", block * 100u,
                     Bytes::whole(std::string(100, static_cast<char>('a' + block))));
      }
    }
  }  // the queue is drained as the cache goes
  const auto cache = opened(directory.path);
  for (int object = 0; object < kObjects; ++object) {
    const std::string url = "https://host/object" + std::to_string(object);
    REQUIRE(cache->record(url));
    CHECK(cache->record(url)->validator == "ETag \"v1\"");
    for (int block = 0; block < kBlocks; ++block) {
      const auto bytes = cache->read(url, "ETag \"v1\"", block * 100u, 100);
      REQUIRE(bytes);
      CHECK(*bytes == std::string(100, static_cast<char>('a' + block)));
    }
  }
  CHECK(cache->stats().hits == kObjects * kBlocks);
  CHECK(cache->stats().write_failures == 0);
  // Another version's blocks are never handed out.
  CHECK_FALSE(cache->read("https://host/object0", "ETag \"v2\"", 0, 100));
}
