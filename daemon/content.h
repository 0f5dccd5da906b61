// What a file in the mount holds. Every file resolves, once, when the kernel looks it up, to one
// content kind behind this interface; the file system then only asks it for its size and for
// byte ranges. The kinds:
//   inline      bytes held in memory: the reference set's inline values, and the synthesized
//               consolidated metadata its generation keeps
//   range       [url, offset, length]: a range of a target, through the fetcher and read-ahead
//   whole file  [url]: a whole target, whose size may take a request
//   live text   made by the daemon anew for every read, never cached by the kernel: the statistics
//   error       a file that answers only an error (an assembled array's .zarray without -o decode)
// The decoded view's kinds (decoded and assembled chunks) are in daemon/decoded_view.cpp; new
// kinds (parquet-backed references) implement the same two calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "fetch/fetcher.h"

namespace kerchunkfs::daemon {

class ReadAhead;

// Bytes valid during the callback only.
using ContentRead = fetch::BytesDone;
using ContentSize = fetch::SizeDone;

class Content {
 public:
  virtual ~Content() = default;
  // The size, at once when it is known; a whole remote file may need a request first.
  virtual void size(ContentSize done) const = 0;
  // Bytes [offset, offset + length), fewer only where the content ends. Errors name what failed
  // (the URL and range), not the file: the caller adds its key.
  virtual void read(std::uint64_t offset, std::size_t length, ContentRead done) const = 0;
  // The same bytes read() would give, as a slice of a local file the reply can be spliced from
  // (no copy through the daemon); nothing where that is not so (remote or inline bytes, a read
  // that would fail: read() then answers, and logs, as always).
  virtual std::optional<fetch::FileSlice> file_slice(std::uint64_t offset, std::size_t length) const {
    static_cast<void>(offset);
    static_cast<void>(length);
    return std::nullopt;
  }
  // Content that changes while mounted: read anew every time, never kept by the kernel.
  virtual bool is_live() const { return false; }
};

// Bytes that outlive the content (the generation holding them outlives its files' inodes).
std::unique_ptr<Content> inline_content(std::string_view bytes);
// Bytes the content holds itself (a parquet set's inline chunk: its table may be evicted).
std::unique_ptr<Content> owned_inline_content(std::string bytes);
// A file that cannot be read: its size and reads fail with `message` (logged with its key).
std::unique_ptr<Content> error_content(std::string message);
// Text made anew for every read, shown at a fixed `shown_size` (which the text must not exceed:
// the kernel caches the size between stat and read).
std::unique_ptr<Content> live_text_content(std::function<std::string()> make, std::uint64_t shown_size);

// What remote contents read through; it outlives them (their reference set's generation holds it).
struct ReadPath {
  fetch::Fetcher& fetcher;
  ReadAhead& readahead;
  std::span<const fetch::Target* const> targets;  // the reference set's URL table
};
std::unique_ptr<Content> range_content(const ReadPath& path, std::uint32_t node, const fetch::Extent& extent);
std::unique_ptr<Content> whole_file_content(const ReadPath& path, std::uint32_t node, const fetch::Target& target);

}  // namespace kerchunkfs::daemon
