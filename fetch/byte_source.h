// Where referenced bytes come from. A source serves one or more URL schemes; every read is
// asynchronous in shape, so a network source can answer from its own I/O thread while a local
// one answers at once on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "fetch/bytes.h"

namespace kerchunkfs::fetch {

// A read's bytes. Errors (common::Error) name what failed, with the URL and range, for the log,
// and carry an errno value.
struct ReadAnswer {
  std::string bytes;  // up to the requested length; fewer only where the target ends
  // The whole object's size, when the answer told it (an HTTP Content-Range total): a reader that
  // needs the size as well as the first bytes gets both from one request.
  std::optional<std::uint64_t> object_size;
  // The object's version as the answer named it ("ETag \"...\"" or "Last-Modified ..."), when it
  // did: what a watcher compares to tell a changed object.
  std::string validator;
};
using ReadDone = std::function<void(common::Result<ReadAnswer>)>;

// Bytes of a local file, for a reply the kernel copies (splices) straight from the file's pages:
// no read into a buffer of ours. The descriptor stays open while the slice is held.
struct FileSlice {
  std::shared_ptr<const void> keep_open;
  int fd = -1;
  std::uint64_t offset = 0;
  std::size_t length = 0;  // clipped to the file's end
};
using SizeDone = std::function<void(common::Result<std::uint64_t>)>;

// Part of a response as it arrives: the answer's bytes so far, final, whose memory the receiver
// may keep views into.
using Progress = std::function<void(const Bytes& so_far)>;

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Calls `done` exactly once, on this thread or another.
  virtual void read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) = 0;
  virtual void size(const std::string& url, SizeDone done) = 0;
  // Like read(), but the bytes are handed out through `progress` as they arrive, the last call
  // covering all there is; `done` then reports success (with no bytes) or the error. A failed
  // attempt that is retried starts a new buffer from 0: what was handed out before stays valid.
  // This default hands everything out at the end.
  virtual void read_streaming(const std::string& url, std::uint64_t offset, std::size_t length, Progress progress,
                              ReadDone done) {
    read(url, offset, length,
         [progress = std::move(progress), done = std::move(done)](common::Result<ReadAnswer> result) {
           if (result) {
             progress(Bytes::whole(std::move(result->bytes)));
             result->bytes.clear();
           }
           done(std::move(result));
         });
  }
  // For a source of local files: bytes [offset, offset + length) of `url` as a FileSlice (clipped
  // to the file's end), or why the file cannot be read; nothing from other sources.
  virtual std::optional<common::Result<FileSlice>> file_slice(const std::string& url, std::uint64_t offset,
                                                              std::size_t length) {
    static_cast<void>(url);
    static_cast<void>(offset);
    static_cast<void>(length);
    return std::nullopt;
  }
  // Holds `url` to the object version `validator` (see ReadAnswer::validator): later answers
  // naming another version fail. Sources without versions ignore it.
  virtual void pin_version(const std::string& url, const std::string& validator) {
    static_cast<void>(url);
    static_cast<void>(validator);
  }
  // Ends background work: requests under way are answered with ECANCELED before this returns,
  // and no callback runs after it. Idempotent.
  virtual void stop() {}
};

}  // namespace kerchunkfs::fetch
