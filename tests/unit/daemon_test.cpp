#include <catch2/catch.hpp>

#include "daemon/options.h"
#include "daemon/prefetcher.h"
#include "refstore/refstore.h"

using namespace kerchunkfs;

TEST_CASE("sizes take 1024-based suffixes") {
  CHECK(daemon::parse_size("4096") == 4096u);
  CHECK(daemon::parse_size("64K") == 65536u);
  CHECK(daemon::parse_size("64KiB") == 65536u);
  CHECK(daemon::parse_size("2g") == (2ull << 30));
  CHECK(daemon::parse_size("1T") == (1ull << 40));
  CHECK_FALSE(daemon::parse_size(""));
  CHECK_FALSE(daemon::parse_size("M"));
  CHECK_FALSE(daemon::parse_size("12X"));
  CHECK_FALSE(daemon::parse_size("-1"));
  CHECK_FALSE(daemon::parse_size("99999999999T"));
}

TEST_CASE("bad option values are refused with the option named") {
  daemon::RawOptions raw;
  char bad_size[] = "lots";
  raw.cache_size = bad_size;
  daemon::FilesystemOptions options;
  CHECK_THAT(*daemon::apply_options(raw, options), Catch::Contains("-o cache_size=lots: not a size"));
  raw.cache_size = nullptr;
  char bad_count[] = "0";
  raw.max_connections = bad_count;
  CHECK_THAT(*daemon::apply_options(raw, options), Catch::Contains("-o max_connections=0: expected a whole number from 1"));
  raw.max_connections = nullptr;
  char delay[] = "15";
  raw.retry_delay = delay;
  CHECK_FALSE(daemon::apply_options(raw, options));
  CHECK(options.fetch.http.retry_delay_ms == 15);
}

namespace {

// A 3 x 4 chunk grid (shape 5 x 8, chunks 2 x 2) with chunk 1.1 never written.
refstore::RefStore grid_store() {
  std::string json = R"({"v/.zarray": "{\"shape\": [5, 8], \"chunks\": [2, 2], \"dtype\": \"<f4\"}")";
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (i == 1 && j == 1) continue;
      json += ", \"v/" + std::to_string(i) + "." + std::to_string(j) + "\": [\"http://h/f\", " +
              std::to_string((i * 4 + j) * 100) + ", 100]";
    }
  }
  return refstore::RefStore::parse(json + "}", {});
}

std::vector<std::string> names(const refstore::RefStore& store, const std::vector<refstore::NodeId>& nodes) {
  std::vector<std::string> out;
  for (const auto node : nodes) out.emplace_back(store.name(node));
  return out;
}

}  // namespace

TEST_CASE("prefetch follows C order, widens while reads follow each other, and stops after a jump") {
  const auto store = grid_store();
  daemon::Prefetcher prefetcher(store, 1 << 20);
  const auto at = [&](const char* key) { return *store.find(key); };
  // First read: the initial window of 4 chunks ahead; the unwritten 1.1 is skipped.
  CHECK(names(store, prefetcher.plan(at("v/0.2"))) == std::vector<std::string>{"0.3", "1.0", "1.2"});
  CHECK(prefetcher.plan(at("v/0.2")).empty());  // another piece of the same chunk
  // In order: the window doubles to 8; what was already asked for is not asked again.
  CHECK(names(store, prefetcher.plan(at("v/0.3"))) == std::vector<std::string>{"1.3", "2.0", "2.1", "2.2", "2.3"});
  CHECK(prefetcher.plan(at("v/1.0")).empty());  // all asked for already
  // A jump backwards: no read-ahead at all.
  CHECK(prefetcher.plan(at("v/0.0")).empty());
  // Then in order again: reading ahead resumes with the initial window.
  CHECK(names(store, prefetcher.plan(at("v/0.1"))) == std::vector<std::string>{"0.2", "0.3", "1.0"});
}

TEST_CASE("the prefetch budget bounds the bytes asked for; 0 turns prefetching off") {
  const auto store = grid_store();
  daemon::Prefetcher small(store, 150);
  CHECK(small.plan(*store.find("v/0.0")).size() == 2);  // 100 + 100 reaches the 150-byte budget
  daemon::Prefetcher off(store, 0);
  CHECK(off.plan(*store.find("v/0.0")).empty());
}
