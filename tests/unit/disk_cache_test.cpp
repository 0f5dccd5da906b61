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

TEST_CASE("the directory stays within its limit while both workers write") {
  // Room is made and reserved before each block is written: however the two workers interleave,
  // the block files (stored and being written) never add up to more than the limit.
  const TemporaryDirectory directory;
  DiskCacheOptions options;
  options.directory = directory.path;
  options.size_limit = 256 << 10;
  {
    auto cache = DiskCache::open(options);
    REQUIRE(cache);
    for (int block = 0; block < 200; ++block) {
      (*cache)->write("https://host/object" + std::to_string(block % 7), "ETag \"v\"", block * 16384u,
                      Bytes::whole(std::string(16384, 'x')));
    }
  }
  std::uint64_t held = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory.path)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && entry.path().parent_path().parent_path().parent_path().filename() == "objects" &&
        name != "object") {
      held += entry.file_size();
    }
  }
  CHECK(held <= options.size_limit);
  CHECK(held > options.size_limit / 2);
  auto reopened = DiskCache::open(options);
  REQUIRE(reopened);
  CHECK((*reopened)->stats().usage == held);
}
