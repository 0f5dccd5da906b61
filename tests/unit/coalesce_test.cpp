#include <catch2/catch.hpp>

#include "fetch/coalesce.h"

using namespace kerchunkfs::fetch;

TEST_CASE("ranges closer than max_gap join, within max_block") {
  const std::vector<ByteRange> ranges{{1000, 100}, {0, 100}, {150, 100}, {260, 40}, {5000, 10}};
  const auto merged = coalesce(ranges, 20, 1 << 20);
  REQUIRE(merged.size() == 4);
  CHECK(merged[0].offset == 0);
  CHECK(merged[0].length == 100);  // the gap to 150 is 50 > 20
  CHECK(merged[1].offset == 150);
  CHECK(merged[1].length == 150);  // 150..250 and 260..300: gap 10
  CHECK(merged[1].members == std::vector<std::size_t>{2, 3});
  CHECK(merged[2].members == std::vector<std::size_t>{0});  // 1000: gap 700 > 20 from 300 ...
  CHECK(merged[3].members == std::vector<std::size_t>{4});
  CHECK(coalesce(ranges, 1000, 1 << 20).size() == 2);  // ... but with max_gap 1000 only 5000 stays apart
}

TEST_CASE("max_block caps a merged request; one range larger than it stands alone") {
  const std::vector<ByteRange> ranges{{0, 60}, {60, 60}, {120, 60}, {180, 500}};
  const auto merged = coalesce(ranges, 0, 130);
  REQUIRE(merged.size() == 3);
  CHECK(merged[0].length == 120);
  CHECK(merged[1].offset == 120);
  CHECK(merged[1].length == 60);
  CHECK(merged[2].length == 500);
}

TEST_CASE("overlapping ranges join") {
  const std::vector<ByteRange> ranges{{0, 100}, {50, 100}, {10, 20}};
  const auto merged = coalesce(ranges, 0, 1000);
  REQUIRE(merged.size() == 1);
  CHECK(merged[0].length == 150);
  CHECK(merged[0].members.size() == 3);
}
