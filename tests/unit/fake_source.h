// A ByteSource that answers from memory: objects by URL, every request counted, and answers held
// back until released when a test needs fetches to be under way at once.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fetch/byte_source.h"

namespace kerchunkfs::testing {

class FakeSource final : public fetch::ByteSource {
 public:
  struct Request {
    std::string url;
    std::uint64_t offset;
    std::size_t length;
  };

  void put(const std::string& url, std::string bytes) { objects_[url] = std::move(bytes); }
  // Answers wait in a queue until release() while held.
  void hold(bool held) { held_ = held; }
  void release() {
    std::vector<std::function<void()>> waiting;
    {
      const std::lock_guard lock(mutex_);
      waiting.swap(waiting_);
    }
    for (auto& answer : waiting) answer();
  }

  void read(const std::string& url, std::uint64_t offset, std::size_t length, fetch::ReadDone done) override {
    common::Result<fetch::ReadAnswer> result = common::Error{url + ": HTTP 404"};
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back({url, offset, length});
      if (const auto found = objects_.find(url); found != objects_.end()) {
        fetch::ReadAnswer answer;
        if (offset < found->second.size()) answer.bytes = found->second.substr(offset, length);
        result = std::move(answer);
      }
    }
    answer([done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
  }

  void size(const std::string& url, fetch::SizeDone done) override {
    common::Result<std::uint64_t> result = common::Error{url + ": HTTP 404"};
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back({url, 0, 0});
      if (const auto found = objects_.find(url); found != objects_.end()) result = std::uint64_t{found->second.size()};
    }
    answer([done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
  }

  std::vector<Request> requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void answer(std::function<void()> respond) {
    {
      const std::lock_guard lock(mutex_);
      if (held_) return waiting_.push_back(std::move(respond));
    }
    respond();
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::string> objects_;
  std::vector<Request> requests_;
  std::vector<std::function<void()>> waiting_;
  bool held_ = false;
};

}  // namespace kerchunkfs::testing
