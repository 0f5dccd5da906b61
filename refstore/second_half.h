// The second thread of a large set's load (private to refstore). When much of the entries is
// left, the parser guesses where a member starts near the middle of what is left
// (find_member_start) and has a SecondHalf read from there to the end of the object on a thread of
// its own, into a store builder of its own, while it reads the entries before. Where it arrives
// exactly at that place between two members, the second half joins the store as one thread would
// have built it (StoreBuilder::append); otherwise the guess was no member's start and the second
// half is dropped. The member reader itself (refstore/parse.cpp) knows nothing of threads but
// where it was told to start and stop.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <thread>

#include "refstore/store_data.h"

namespace kerchunkfs::refstore {

// A place in [from + (end - from) / 2, that + search) where a member of an object seems to start:
// a quote after a comma (white space between), whose string a colon follows. Only a guess (a
// string value holding `, "x":` would pass), which the reading confirms. `begin` is the start of
// the document, for telling escaped quotes. Null when none is found.
const char* find_member_start(const char* begin, const char* from, const char* end, std::ptrdiff_t search);

class SecondHalf {
 public:
  // Reads the entries from `split` into `builder`, stopping early once `stop` is set; returns
  // where the object ended. Runs on the second thread.
  using Read = std::function<const char*(StoreBuilder& builder, const std::atomic<bool>& stop)>;

  SecondHalf(const char* split, std::unique_ptr<StoreBuilder> builder, Read read);
  SecondHalf(const SecondHalf&) = delete;
  SecondHalf& operator=(const SecondHalf&) = delete;
  // A second half not joined is told to stop, then joined.
  ~SecondHalf();

  const char* split() const { return split_; }
  void join();
  // After join():
  StoreBuilder& builder() { return *builder_; }
  const std::exception_ptr& error() const { return error_; }
  const char* end() const { return end_; }

 private:
  const char* split_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<StoreBuilder> builder_;
  const char* end_ = nullptr;
  std::exception_ptr error_;
  std::jthread thread_;  // last: joined before the rest goes
};

}  // namespace kerchunkfs::refstore
