#include "fetch/fetcher.h"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

#include "fake_source.h"

using kerchunkfs::common::Result;
using kerchunkfs::fetch::Extent;
using kerchunkfs::fetch::Fetcher;
using kerchunkfs::fetch::FetcherOptions;
using kerchunkfs::fetch::SourceRegistry;
using kerchunkfs::testing::FakeSource;

namespace {

std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return bytes;
}

struct Fixture {
  explicit Fixture(FetcherOptions options = small_blocks()) : fetcher(make_registry(), options) {}
  static FetcherOptions small_blocks() {
    FetcherOptions options;
    options.cache_size = 1 << 20;
    options.block_size = 4096;
    options.max_gap = 100;
    options.max_block = 1 << 16;
    return options;
  }
  SourceRegistry& make_registry() {
    registry.add("http", source);
    return registry;
  }
  // The target of `url`, whose object (when given) the fake source serves.
  const kerchunkfs::fetch::Target* target(const std::string& url, std::optional<std::string> object = std::nullopt) {
    if (object) source->put(url, std::move(*object));
    const std::string urls[] = {url};
    return fetcher.targets(urls).front();
  }
  // Reads synchronously (the fake answers at once unless held).
  std::string read(const Extent& extent, std::uint64_t position, std::size_t length) {
    std::string out = "<no answer>";
    fetcher.read(extent, position, length, [&](const kerchunkfs::common::Result<std::span<const char>>& bytes) {
      out = bytes ? std::string(bytes->data(), bytes->size()) : "error: " + bytes.error().message;
    });
    return out;
  }
  std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>();
  SourceRegistry registry;
  Fetcher fetcher;
};

}  // namespace

TEST_CASE("a URL seen in two reference sets is one target, with one set of cached bytes") {
  Fixture f;
  f.source->put("http://h/a", pattern(1000));
  const std::string first_set[] = {"http://h/a", "http://h/b"};
  const std::string second_set[] = {"http://h/c", "http://h/a"};
  const auto first = f.fetcher.targets(first_set);
  const auto second = f.fetcher.targets(second_set);
  CHECK(first[0] == second[1]);
  CHECK(first[1] != second[0]);
  CHECK(f.read(Extent{first[0], 100, 50}, 0, 50) == pattern(1000).substr(100, 50));
  CHECK(f.read(Extent{second[1], 100, 50}, 0, 50) == pattern(1000).substr(100, 50));
  CHECK(f.source->requests().size() == 1);  // the second set's read came from the cache
}

TEST_CASE("a read across blocks of a large extent gathers them in order, clipped to the extent") {
  Fixture f;
  const std::string object = pattern(20000);
  const auto* target = f.target("http://h/big", object);
  const Extent extent{target, 1000, 15000};  // larger than a 4096-byte block
  CHECK(f.read(extent, 3000, 6000) == object.substr(4000, 6000));
  // Aligned to the target: blocks [0,4096) from 1000, [4096,8192), [8192,12288).
  const auto requests = f.source->requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].offset == 1000);
  CHECK(requests[0].length == 3096);
  CHECK(requests[1].offset == 4096);
  CHECK(requests[2].offset == 8192);
  CHECK(f.read(extent, 14000, 5000) == object.substr(15000, 1000));  // clipped at the extent's end
}

TEST_CASE("prefetch claims ranges once, coalesces close ones, and a read joins the fetch under way") {
  Fixture f;
  const std::string object = pattern(10000);
  const auto* target = f.target("http://h/o", object);
  const Extent chunks[] = {{target, 0, 1000}, {target, 1050, 1000}, {target, 5000, 1000}};
  f.source->hold(true);
  f.fetcher.prefetch(chunks);
  f.fetcher.prefetch(chunks);  // already under way: nothing new
  auto requests = f.source->requests();
  REQUIRE(requests.size() == 2);  // the first two are 50 bytes apart: one request
  CHECK(requests[0].offset == 0);
  CHECK(requests[0].length == 2050);
  CHECK(requests[1].offset == 5000);
  std::string got = "<no answer>";
  f.fetcher.read(chunks[1], 0, 1000, [&](const Result<std::span<const char>>& bytes) {
    REQUIRE(bytes);
    got.assign(bytes->data(), bytes->size());
  });
  CHECK(got == "<no answer>");  // waits for the prefetch rather than asking again
  CHECK(f.source->requests().size() == 2);
  f.source->release();
  CHECK(got == object.substr(1050, 1000));
  CHECK(f.fetcher.cache_stats().joined == 1);
}

TEST_CASE("a failed fetch fails every reader waiting for it, with the source's message") {
  Fixture f;
  const Extent extent{f.target("http://h/missing"), 0, 100};
  f.source->hold(true);
  std::string first, second;
  const auto describe = [](std::string& out) {
    return [&out](const Result<std::span<const char>>& bytes) {
      out = bytes ? "bytes" : std::to_string(bytes.error().code) + bytes.error().message;
    };
  };
  f.fetcher.read(extent, 0, 100, describe(first));
  f.fetcher.read(extent, 0, 100, describe(second));
  f.source->release();
  CHECK(first == std::to_string(EIO) + "http://h/missing: HTTP 404");
  CHECK(second == first);
  CHECK(f.source->requests().size() == 1);
}

TEST_CASE("prefetch_range fetches the block a sequential reader needs next, once") {
  Fixture f;
  const std::string object = pattern(20000);
  const auto* target = f.target("http://h/big", object);
  const Extent whole{target, 0, 20000};
  f.fetcher.prefetch_range(whole, 4096, 1);
  f.fetcher.prefetch_range(whole, 5000, 1);  // the same block
  REQUIRE(f.source->requests().size() == 1);
  CHECK(f.source->requests()[0].offset == 4096);
  CHECK(f.read(whole, 4096, 4096) == object.substr(4096, 4096));
  CHECK(f.source->requests().size() == 1);  // served from the prefetched block
}
