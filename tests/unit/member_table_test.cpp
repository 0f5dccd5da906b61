// The packed member table against a plain vector of the same targets.

#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "refstore/member_table.h"

using namespace kerchunkfs::refstore;

namespace {

Target range(std::uint32_t url, std::uint64_t offset, std::uint64_t length) {
  Target target{url, 0, 0, 0, 0};
  target.set_offset(offset);
  target.set_length(length);
  return target;
}

bool same(const Target& a, const Target& b) {
  return a.target == b.target && a.offset() == b.offset() && a.length() == b.length();
}

// Targets in stretches of every shape a block packs differently: chunks one after another in one
// file, chunks scattered within 4 GiB of each other, far apart, in other files, inline, whole files.
std::vector<Target> varied_targets(std::mt19937& random, std::size_t count) {
  std::vector<Target> targets;
  std::uint64_t offset = random() % 1000;
  while (targets.size() < count) {
    const auto shape = random() % 7;
    const std::size_t stretch = 1 + random() % 40;
    const auto url = static_cast<std::uint32_t>(random() % 5);
    for (std::size_t i = 0; i < stretch && targets.size() < count; ++i) {
      const std::uint64_t length = shape == 5 ? (std::uint64_t{1} << 32) + random() : 1 + random() % 100000;
      switch (shape) {
        case 0:
        case 1:  // consecutive
          targets.push_back(range(url, offset, length));
          offset += length;
          break;
        case 2:  // near, out of order
          targets.push_back(range(url, offset + random() % 3000000000U, length));
          break;
        case 3:  // far apart
          targets.push_back(range(url, (std::uint64_t{random()} << 16) % kMaxField, length));
          break;
        case 4:  // a URL each
          targets.push_back(range(static_cast<std::uint32_t>(random() % 5), offset, length));
          break;
        case 5:  // longer than 32 bits
          targets.push_back(range(url, offset, length));
          break;
        default:  // inline or whole file
          targets.push_back(random() % 2 ? range(kInlineTarget, random() % 1000, random() % 50)
                                         : range(url, 0, kWholeFileLength));
      }
    }
  }
  return targets;
}

void check_equal(const MemberTable& table, const std::vector<Target>& model) {
  REQUIRE(table.size() == model.size());
  for (std::size_t i = 0; i < model.size(); ++i) {
    INFO("member " << i);
    REQUIRE(same(table[i], model[i]));
  }
  std::size_t visited = 0;
  const std::size_t begin = model.empty() ? 0 : model.size() / 3;
  table.visit(begin, model.size(), [&](std::size_t index, const Target& target) {
    CHECK(index == begin + visited);
    CHECK(same(target, model[index]));
    ++visited;
  });
  CHECK(visited == model.size() - begin);
}

}  // namespace

TEST_CASE("member table: packed blocks give back every target, after pops too") {
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    MemberTable table;
    table.reserve(1000);
    std::vector<Target> model;
    for (const Target& target : varied_targets(random, 200 + random() % 800)) {
      table.push_back(target);
      model.push_back(target);
      // The member added last can still be set (the builder sets it just after adding it).
      if (random() % 4 == 0) {
        table.back().set_length(table.back().length() + 1);
        model.back().set_length(model.back().length() + 1);
      }
      if (random() % 50 == 0) {
        for (auto pops = random() % 40; pops > 0 && !model.empty(); --pops) {
          REQUIRE(same(table.back(), model.back()));
          table.pop_back();
          model.pop_back();
        }
      }
    }
    check_equal(table, model);
  }
  // Blocks that use less than whole targets: 16 consecutive chunks cost 5 bytes each.
  MemberTable consecutive;
  for (std::uint64_t i = 0; i < 1600; ++i) consecutive.push_back(range(3, 4096 + i * 1000, 1000));
  CHECK(consecutive.memory_bytes() <= 1600 * 5 + MemberTable::kBlock * sizeof(Target));  // the last 16 unpacked
}

TEST_CASE("member table: a second table adopted and renumbered reads as one") {
  std::mt19937 random(11);
  for (int round = 0; round < 10; ++round) {
    MemberTable first;
    MemberTable second;
    std::vector<Target> model;
    for (const Target& target : varied_targets(random, random() % 300)) {
      first.push_back(target);
      model.push_back(target);
    }
    const std::vector<std::uint32_t> urls{7, 3, 9, 1, 4};
    const std::uint64_t inline_base = 5000;
    for (Target target : varied_targets(random, random() % 300)) {
      second.push_back(target);
      if (target.target == kInlineTarget) {
        target.set_offset(target.offset() + inline_base);
      } else {
        target.target = urls[target.target];
      }
      model.push_back(target);
    }
    second.renumber(urls, inline_base);
    const std::size_t before = first.size();
    first.adopt(std::move(second));
    CHECK(first.in_last_segment(model.size()) == true);
    CHECK(first.in_last_segment(before) == true);
    check_equal(first, model);
    // Added after the adoption: the last segment takes them.
    for (const Target& target : varied_targets(random, 40)) {
      first.push_back(target);
      model.push_back(target);
    }
    check_equal(first, model);
  }
}
