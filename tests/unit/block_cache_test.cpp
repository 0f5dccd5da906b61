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
      const auto outcome = cache
                               .lookup(key,
                                       [&](const kerchunkfs::common::Result<Bytes>& bytes) {
                                         if (bytes && *bytes && bytes->size() == 100) ++served;
                                       })
                               .outcome;
      if (outcome == BlockCache::Lookup::MustFetch) ++fetchers;
      if (outcome == BlockCache::Lookup::Hit) ++served;
    });
  }
  for (auto& reader : readers) reader.join();
  CHECK(fetchers == 1);
  cache.complete(key, bytes_of(100, 'x'));
  CHECK(served == 8);
  const auto found = cache.lookup(key, {});
  CHECK(found.outcome == BlockCache::Lookup::Hit);
  CHECK(found.bytes.view == std::string(100, 'x'));
  const CacheStats stats = cache.stats();
  CHECK(stats.misses == 1);
  CHECK(stats.joined + stats.hits == 8);
}

TEST_CASE("errors reach the waiters, are answered at once for the hold, then fetched again") {
  BlockCache cache(1 << 20, 1, std::chrono::milliseconds(50));
  const CacheKey key{0, 0, 10};
  int error_seen = 0;
  REQUIRE(cache
              .lookup(key,
                      [&](const kerchunkfs::common::Result<Bytes>& bytes) {
                        REQUIRE_FALSE(bytes);
                        error_seen = bytes.error().code;
                      })
              .outcome == BlockCache::Lookup::MustFetch);
  cache.complete(key, kerchunkfs::common::Error{"broken", 5});
  CHECK(error_seen == 5);
  const auto failed = cache.lookup(key, {});
  CHECK(failed.outcome == BlockCache::Lookup::Failed);
  CHECK(failed.error.code == 5);
  CHECK(failed.error.message == "broken");
  CHECK_FALSE(cache.claim(key));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  CHECK(cache.lookup(key, [](const kerchunkfs::common::Result<Bytes>&) {}).outcome == BlockCache::Lookup::MustFetch);
}

TEST_CASE("the cache stays within its capacity, evicting the least recently used") {
  BlockCache cache(1000, 1);
  for (std::uint64_t i = 0; i < 5; ++i) {
    REQUIRE(cache.claim({0, i * 300, 300}));
    cache.complete({0, i * 300, 300}, bytes_of(300, 'a'));
    if (i == 2) CHECK(cache.lookup({0, 0, 300}, {}).outcome == BlockCache::Lookup::Hit);  // keeps range 0 recent
  }
  const CacheStats stats = cache.stats();
  CHECK(stats.bytes <= 1000);
  CHECK(stats.evictions == 2);
  CHECK(cache.lookup({0, 0, 300}, {}).outcome == BlockCache::Lookup::Hit);
  CHECK_FALSE(cache.claim({0, 1200, 300}));  // the newest is still there
  CHECK(cache.claim({0, 300, 300}));         // the oldest unused one was evicted
}

TEST_CASE("a range used a second time stops sharing its response buffer") {
  BlockCache cache(1 << 20, 1);
  const Bytes response = Bytes::whole(std::string(1000, 'r'));
  REQUIRE(cache.claim({0, 0, 100}));
  cache.complete({0, 0, 100}, response.part(0, 100));
  auto hit = cache.lookup({0, 0, 100}, {});
  REQUIRE(hit.outcome == BlockCache::Lookup::Hit);
  CHECK(hit.bytes.owner == response.owner);  // the first use copies nothing
  hit = cache.lookup({0, 0, 100}, {});
  REQUIRE(hit.outcome == BlockCache::Lookup::Hit);
  CHECK(hit.bytes.view == std::string(100, 'r'));
  CHECK(hit.bytes.owner != response.owner);
  CHECK(hit.bytes.held == 100);
  CHECK(static_cast<const std::string*>(hit.bytes.owner.get())->size() == 100);
}
