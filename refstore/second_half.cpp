#include "refstore/second_half.h"

#include <algorithm>
#include <cstring>

namespace kerchunkfs::refstore {
namespace {

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

const char* find_member_start(const char* begin, const char* from, const char* end, std::ptrdiff_t search) {
  const char* at = from + (end - from) / 2;
  const char* const give_up = std::min(end, at + search);
  const auto escaped = [begin](const char* quote) {
    std::size_t backslashes = 0;
    for (const char* p = quote; p > begin && p[-1] == '\\'; --p) ++backslashes;
    return backslashes % 2 == 1;
  };
  const auto next_quote = [&](const char* start, const char* until) -> const char* {
    while (start < until) {
      const auto* quote = static_cast<const char*>(std::memchr(start, '"', static_cast<std::size_t>(until - start)));
      if (quote == nullptr || !escaped(quote)) return quote;
      start = quote + 1;
    }
    return nullptr;
  };
  while (const char* quote = next_quote(at, give_up)) {
    at = quote + 1;
    const char* before = quote;
    while (before > begin && is_space(before[-1])) --before;
    if (before == begin || before[-1] != ',') continue;
    const char* close = next_quote(quote + 1, end);
    if (close == nullptr) return nullptr;
    const char* after = close + 1;
    while (after < end && is_space(*after)) ++after;
    if (after < end && *after == ':') return quote;
  }
  return nullptr;
}

SecondHalf::SecondHalf(const char* split, std::unique_ptr<StoreBuilder> builder, Read read)
    : split_(split), builder_(std::move(builder)) {
  thread_ = std::jthread([this, read = std::move(read)] {
    try {
      end_ = read(*builder_, stop_);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

SecondHalf::~SecondHalf() {
  stop_.store(true, std::memory_order_relaxed);
  join();
}

void SecondHalf::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace kerchunkfs::refstore
