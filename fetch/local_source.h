// Local files ("file://" URLs and plain paths): pread on descriptors kept in a small LRU, so a
// chunk read costs one syscall rather than open/pread/close.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fetch/byte_source.h"

namespace kerchunkfs::fetch {

class LocalSource final : public ByteSource {
 public:
  // With `roots`, only files whose real path (after every symbolic link, checked on the open
  // descriptor, so a link swapped later changes nothing) lies under one of those directories are
  // read; without, any file.
  explicit LocalSource(std::optional<std::vector<std::string>> roots = std::nullopt, std::size_t max_open_files = 256)
      : roots_(std::move(roots)), max_open_files_(max_open_files) {}
  void read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) override;
  void size(const std::string& url, SizeDone done) override;
  std::optional<common::Result<FileSlice>> file_slice(const std::string& url, std::uint64_t offset,
                                                      std::size_t length) override;

 private:
  class Descriptor;
  // The open descriptor for `path`, or why it cannot be read.
  [[nodiscard]] common::Result<std::shared_ptr<Descriptor>> open(const std::string& path);

  std::optional<std::vector<std::string>> roots_;
  std::size_t max_open_files_;
  std::mutex mutex_;
  std::list<std::string> recency_;  // most recently used first
  struct Slot {
    std::shared_ptr<Descriptor> descriptor;
    std::list<std::string>::iterator position;
  };
  std::unordered_map<std::string, Slot> open_;
};

}  // namespace kerchunkfs::fetch
