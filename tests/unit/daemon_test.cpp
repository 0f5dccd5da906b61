#include <catch2/catch.hpp>

#include "daemon/options.h"
#include "daemon/readahead.h"
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
  CHECK_THAT(daemon::apply_options({{"cache_size", "lots"}}).error().message,
             Catch::Contains("-o cache_size=lots: not a size"));
  CHECK_THAT(daemon::apply_options({{"max_connections", "0"}}).error().message,
             Catch::Contains("-o max_connections=0: expected a whole number from 1"));
  const auto settings = daemon::apply_options({{"retry_delay", "15"}});
  REQUIRE(settings);
  CHECK(settings->filesystem.fetch.http.retry_delay_ms == 15);
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
  return refstore::RefStore::parse(json + "}", {}).value();
}

std::vector<std::string> names(const refstore::RefStore& store, const std::vector<refstore::NodeId>& nodes) {
  std::vector<std::string> out;
  for (const auto node : nodes) out.emplace_back(store.name(node));
  return out;
}

}  // namespace

// A 1-D array of 100 chunks with chunk 20 never written.
refstore::RefStore line_store() {
  std::string json = R"({"w/.zarray": "{\"shape\": [1000], \"chunks\": [10], \"dtype\": \"<f4\"}")";
  for (int i = 0; i < 100; ++i) {
    if (i != 20) json += ", \"w/" + std::to_string(i) + "\": [\"http://h/f\", " + std::to_string(i * 100) + ", 100]";
  }
  return refstore::RefStore::parse(json + "}", {}).value();
}

std::vector<std::string> range_names(int first, int last, int skip = -1) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) {
    if (i != skip) out.push_back(std::to_string(i));
  }
  return out;
}

TEST_CASE("prefetch follows C order across dimensions and skips chunks never written") {
  const auto store = grid_store();
  daemon::ReadAhead prefetcher(store, 1 << 20);
  // The 3 x 4 grid in C order after 0.2, without the unwritten 1.1.
  CHECK(names(store, prefetcher.plan(*store.find("v/0.2"))) ==
        std::vector<std::string>{"0.3", "1.0", "1.2", "1.3", "2.0", "2.1", "2.2", "2.3"});
}

TEST_CASE("the read-ahead window grows fourfold while reads follow each other and stops after a jump") {
  const auto store = line_store();
  daemon::ReadAhead prefetcher(store, 1 << 20);
  const auto at = [&](int i) { return *store.find("w/" + std::to_string(i)); };
  CHECK(names(store, prefetcher.plan(at(10))) == range_names(11, 74, 20));  // the first 64
  CHECK(prefetcher.plan(at(10)).empty());                                   // another piece of the same chunk
  CHECK(names(store, prefetcher.plan(at(11))) == range_names(75, 99));      // window 256, to the end
  CHECK(prefetcher.plan(at(12)).empty());                                   // everything asked for already
  CHECK(prefetcher.plan(at(0)).empty());                                    // a jump: no read-ahead
  CHECK(names(store, prefetcher.plan(at(1))) == range_names(2, 65, 20));    // in order again: 64 ahead
}

TEST_CASE("the prefetch budget bounds the bytes asked for; 0 turns prefetching off") {
  const auto store = grid_store();
  daemon::ReadAhead small(store, 150);
  CHECK(small.plan(*store.find("v/0.0")).size() == 2);  // 100 + 100 passes the 150-byte budget
  daemon::ReadAhead off(store, 0);
  CHECK(off.plan(*store.find("v/0.0")).empty());
}
