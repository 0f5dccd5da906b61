#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "fetch/block_cache.h"

using namespace kerchunkfs::fetch;

namespace {
Bytes bytes_of(std::size_t n, char c) { return Bytes::whole(std::string(n, c)); }
}  // namespace

TEST_CASE("concurrent misses for one range make one fetch, and every waiter gets the bytes") {
  BlockCache cache(1 << 20, 4);
  const CacheKey key{3, 4096, 100};
  std::atomic<int> fetchers{0}, served{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      Bytes hit;
      const auto outcome = cache.lookup(key, hit, [&](const Bytes& bytes, int error, const std::string&) {
        if (error == 0 && bytes && bytes.size() == 100) ++served;
      });
      if (outcome == BlockCache::Lookup::MustFetch) ++fetchers;
      if (outcome == BlockCache::Lookup::Hit) ++served;
    });
  }
  for (auto& reader : readers) reader.join();
  CHECK(fetchers == 1);
  cache.complete(key, bytes_of(100, 'x'));
  CHECK(served == 8);
  Bytes hit;
  CHECK(cache.lookup(key, hit, {}) == BlockCache::Lookup::Hit);
  CHECK(hit.view == std::string(100, 'x'));
  const CacheStats stats = cache.stats();
  CHECK(stats.misses == 1);
  CHECK(stats.joined + stats.hits == 8);
}

TEST_CASE("errors reach the waiters, are answered at once for the hold, then fetched again") {
  BlockCache cache(1 << 20, 1, std::chrono::milliseconds(50));
  const CacheKey key{0, 0, 10};
  int error_seen = 0;
  Bytes hit;
  REQUIRE(cache.lookup(key, hit, [&](const Bytes& bytes, int error, const std::string&) {
    error_seen = error;
    CHECK_FALSE(bytes);
  }) == BlockCache::Lookup::MustFetch);
  cache.complete(key, Bytes{}, 5, "broken");
  CHECK(error_seen == 5);
  int error = 0;
  std::string message;
  CHECK(cache.lookup(key, hit, {}, &error, &message) == BlockCache::Lookup::Failed);
  CHECK(error == 5);
  CHECK(message == "broken");
  CHECK_FALSE(cache.claim(key));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  CHECK(cache.lookup(key, hit, [](const Bytes&, int, const std::string&) {}) == BlockCache::Lookup::MustFetch);
}

TEST_CASE("the cache stays within its capacity, evicting the least recently used") {
  BlockCache cache(1000, 1);
  for (std::uint64_t i = 0; i < 5; ++i) {
    REQUIRE(cache.claim({0, i * 300, 300}));
    cache.complete({0, i * 300, 300}, bytes_of(300, 'a'));
    Bytes hit;
    if (i == 2) CHECK(cache.lookup({0, 0, 300}, hit, {}) == BlockCache::Lookup::Hit);  // keeps range 0 recent
  }
  const CacheStats stats = cache.stats();
  CHECK(stats.bytes <= 1000);
  CHECK(stats.evictions == 2);
  Bytes hit;
  CHECK(cache.lookup({0, 0, 300}, hit, {}) == BlockCache::Lookup::Hit);
  CHECK_FALSE(cache.claim({0, 1200, 300}));  // the newest is still there
  CHECK(cache.claim({0, 300, 300}));         // the oldest unused one was evicted
}

TEST_CASE("a range used a second time stops sharing its response buffer") {
  BlockCache cache(1 << 20, 1);
  const Bytes response = Bytes::whole(std::string(1000, 'r'));
  REQUIRE(cache.claim({0, 0, 100}));
  cache.complete({0, 0, 100}, Bytes{response.buffer, response.view.substr(0, 100)});
  Bytes hit;
  REQUIRE(cache.lookup({0, 0, 100}, hit, {}) == BlockCache::Lookup::Hit);
  CHECK(hit.buffer == response.buffer);  // the first use copies nothing
  REQUIRE(cache.lookup({0, 0, 100}, hit, {}) == BlockCache::Lookup::Hit);
  CHECK(hit.view == std::string(100, 'r'));
  CHECK(hit.buffer != response.buffer);
  CHECK(hit.buffer->size() == 100);
}
