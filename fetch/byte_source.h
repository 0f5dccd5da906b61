// Where referenced bytes come from. A source serves one or more URL schemes; every read is
// asynchronous in shape, so a network source can answer from its own I/O thread while a local
// one answers at once on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace kerchunkfs::fetch {

struct ReadResult {
  std::string bytes;    // up to the requested length; fewer only where the target ends
  int error = 0;        // errno value; 0 on success
  std::string message;  // on error: what failed, naming the URL and range, for the log
};

struct SizeResult {
  std::uint64_t size = 0;
  int error = 0;
  std::string message;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Calls `done` exactly once, on this thread or another.
  virtual void read(const std::string& url, std::uint64_t offset, std::size_t length,
                    std::function<void(ReadResult)> done) = 0;
  virtual void size(const std::string& url, std::function<void(SizeResult)> done) = 0;
  // Ends background work: requests under way are answered with ECANCELED before this returns,
  // and no callback runs after it. Idempotent.
  virtual void stop() {}
};

}  // namespace kerchunkfs::fetch
