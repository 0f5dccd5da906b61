#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "common/huge_pages.h"
#include "fetch/answer_arena.h"
#include "fetch/block_cache.h"

using namespace kerchunkfs::fetch;

namespace {
constexpr std::size_t kChunk = 90'329;  // a chunk file of the many-files benchmark

std::string pattern(std::size_t n, char seed) {
  std::string text(n, '\0');
  for (std::size_t i = 0; i < n; ++i) text[i] = static_cast<char>(seed + static_cast<char>(i % 251));
  return text;
}

bool disjoint(const AnswerBuffer& a, const AnswerBuffer& b) {
  const auto a0 = reinterpret_cast<std::uintptr_t>(a.view().data());
  const auto b0 = reinterpret_cast<std::uintptr_t>(b.view().data());
  return a0 + a.capacity() <= b0 || b0 + b.capacity() <= a0;
}
}  // namespace

TEST_CASE("answers below a mebibyte share a block and keep exactly what was appended") {
  AnswerArena arena;
  auto first = arena.allocate(kChunk);
  auto second = arena.allocate(kChunk);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(arena.mapped_bytes() == AnswerArena::kBlockSize);
  CHECK(first->held() == AnswerArena::kBlockSize);
  CHECK(disjoint(*first, *second));
  const std::string a = pattern(kChunk, 'a');
  const std::string b = pattern(kChunk, 'b');
  // Appended in pieces, as curl hands them over.
  for (std::size_t at = 0; at < kChunk; at += 16384) {
    const std::size_t n = std::min<std::size_t>(16384, kChunk - at);
    REQUIRE(first->append(a.data() + at, n));
    REQUIRE(second->append(b.data() + at, n));
  }
  CHECK(first->view() == a);
  CHECK(second->view() == b);
  CHECK_FALSE(first->append("x", 1));  // full: nothing more, nothing overwritten
  CHECK(first->view() == a);
  CHECK(second->view() == b);
}

TEST_CASE("a block whose answers are all released is used again, and spare blocks are bounded") {
  AnswerArena arena;
  const void* start = nullptr;
  {
    auto buffer = arena.allocate(kChunk);
    start = buffer->view().data();
  }
  CHECK(arena.allocate(kChunk)->view().data() == start);  // carved again from the start

  // 40 blocks' worth of answers, all alive, then all released in an order unlike their carving.
  std::vector<std::shared_ptr<AnswerBuffer>> held;
  const std::size_t per_block = AnswerArena::kBlockSize / ((kChunk + 63) / 64 * 64);
  for (std::size_t i = 0; i < 40 * per_block; ++i) held.push_back(arena.allocate(kChunk));
  CHECK(arena.mapped_bytes() >= 40 * AnswerArena::kBlockSize);
  for (std::size_t i = 0; i < held.size(); i += 2) held[i].reset();
  for (std::size_t i = 1; i < held.size(); i += 2) held[i].reset();
  CHECK(arena.mapped_bytes() <= (AnswerArena::kSpareBlocks + 1) * AnswerArena::kBlockSize);
}

TEST_CASE("answers of a mebibyte or more get a huge-page mapping of their own, returned when released") {
  AnswerArena arena;
  const std::size_t size = (std::size_t{5} << 20) + 3;
  {
    auto big = arena.allocate(size);
    REQUIRE(big);
    CHECK(big->held() == std::size_t{6} << 20);  // whole huge pages
    CHECK(reinterpret_cast<std::uintptr_t>(big->view().data()) % kerchunkfs::common::kHugePage == 0);
    CHECK(arena.mapped_bytes() == big->held());
    const std::string text = pattern(size, 'z');
    REQUIRE(big->append(text.data(), text.size()));
    CHECK(big->view() == text);
  }
  CHECK(arena.mapped_bytes() == 0);
}

TEST_CASE("answers outlive their arena") {
  std::shared_ptr<AnswerBuffer> small;
  std::shared_ptr<AnswerBuffer> big;
  {
    AnswerArena arena;
    small = arena.allocate(100);
    big = arena.allocate(std::size_t{2} << 20);
  }
  REQUIRE(small->append("still here", 10));
  CHECK(small->view() == "still here");
  REQUIRE(big->append("and here", 8));
  CHECK(big->view() == "and here");
  small.reset();  // the last owner unmaps (ASan reports what is not)
  big.reset();
}

TEST_CASE("answers carved on one thread are released on others") {
  AnswerArena arena;
  std::vector<std::shared_ptr<AnswerBuffer>> buffers;
  for (int i = 0; i < 400; ++i) {
    buffers.push_back(arena.allocate(kChunk));
    REQUIRE(buffers.back()->append(pattern(kChunk, static_cast<char>(i)).data(), kChunk));
  }
  // Catch2's assertions are not thread-safe: the threads count what they find, checked after.
  std::atomic<int> wrong{0};
  std::vector<std::thread> releasers;
  for (int t = 0; t < 4; ++t) {
    releasers.emplace_back([&buffers, &wrong, &arena, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < buffers.size(); i += 4) {
        if (buffers[i]->view() != pattern(kChunk, static_cast<char>(i))) ++wrong;
        buffers[i].reset();
        if (i % 16 == 0 && arena.mapped_bytes() == 0) ++wrong;
      }
    });
  }
  // The I/O thread keeps carving meanwhile.
  int refused = 0;
  for (int i = 0; i < 200; ++i) refused += arena.allocate(kChunk) ? 0 : 1;
  for (auto& thread : releasers) thread.join();
  CHECK(wrong == 0);
  CHECK(refused == 0);
  CHECK(arena.mapped_bytes() <= (AnswerArena::kSpareBlocks + 1) * AnswerArena::kBlockSize);
}

TEST_CASE("a cached range carved from an arena block is copied out when used a second time") {
  AnswerArena arena;
  BlockCache cache(64 << 20, 1);
  auto answer = arena.allocate(kChunk);
  const std::string text = pattern(kChunk, 'q');
  REQUIRE(answer->append(text.data(), text.size()));
  const Bytes bytes{answer, answer->view(), answer->held()};
  REQUIRE(cache.claim({0, 0, kChunk}));
  cache.complete({0, 0, kChunk}, bytes);
  auto hit = cache.lookup({0, 0, kChunk}, {});
  CHECK(hit.bytes.owner == bytes.owner);  // the first use copies nothing
  hit = cache.lookup({0, 0, kChunk}, {});
  CHECK(hit.bytes.owner != bytes.owner);  // no longer keeps a 4 MiB block alive
  CHECK(hit.bytes.held == kChunk);
  CHECK(hit.bytes.view == text);
}
