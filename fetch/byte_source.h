// Where referenced bytes come from. A source serves one or more URL schemes; every read is
// asynchronous in shape, so a network source can answer from its own I/O thread while a local
// one answers at once on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kerchunkfs::fetch {

struct ReadResult {
  std::string bytes;    // up to the requested length; fewer only where the target ends
  int error = 0;        // errno value; 0 on success
  std::string message;  // on error: what failed, naming the URL and range, for the log
  // The whole object's size, when the answer told it (an HTTP Content-Range total): a reader that
  // needs the size as well as the first bytes gets both from one request.
  std::optional<std::uint64_t> object_size;
};

struct SizeResult {
  std::uint64_t size = 0;
  int error = 0;
  std::string message;
};

// Part of a response as it arrives: bytes [0, available) of `buffer` are final, and the buffer
// is shared so that the receiver may keep views into it.
using Progress = std::function<void(const std::shared_ptr<const std::string>& buffer, std::size_t available)>;

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Calls `done` exactly once, on this thread or another.
  virtual void read(const std::string& url, std::uint64_t offset, std::size_t length,
                    std::function<void(ReadResult)> done) = 0;
  virtual void size(const std::string& url, std::function<void(SizeResult)> done) = 0;
  // Like read(), but the bytes are handed out through `progress` as they arrive, the last call
  // covering all there is; `done` then reports success or the error, with no bytes. A failed
  // attempt that is retried starts a new buffer from 0: what was handed out before stays valid.
  // This default hands everything out at the end.
  virtual void read_streaming(const std::string& url, std::uint64_t offset, std::size_t length, Progress progress,
                              std::function<void(ReadResult)> done) {
    read(url, offset, length, [progress = std::move(progress), done = std::move(done)](ReadResult result) {
      if (result.error == 0) {
        const auto buffer = std::make_shared<const std::string>(std::move(result.bytes));
        progress(buffer, buffer->size());
      }
      result.bytes.clear();
      done(std::move(result));
    });
  }
  // Ends background work: requests under way are answered with ECANCELED before this returns,
  // and no callback runs after it. Idempotent.
  virtual void stop() {}
};

}  // namespace kerchunkfs::fetch
