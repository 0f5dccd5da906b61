// The bytes of the file being scanned, for the scanner's own reads (the chunk index, data to
// inline): a local file, or a remote one read through the fetch engine (sources/remote_file.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/byte_range.h"

namespace kerchunkfs::sources {

using common::ByteRange;

class FileBytes {
 public:
  virtual ~FileBytes() = default;
  virtual std::uint64_t size() = 0;
  // Exactly `length` bytes at `offset`; false when the file ends before or the read fails.
  virtual bool read(std::uint64_t offset, std::size_t length, char* out) = 0;
  // A hint that these ranges are about to be read: a remote file fetches them all at once.
  virtual void prefetch(std::span<const ByteRange>) {}
  // Whether these are a local file's bytes, which a library may as well read itself by its path.
  virtual bool is_local_file() const { return false; }
};

// A local file, read with pread(2): the kernel's page cache is its cache.
class LocalFileBytes final : public FileBytes {
 public:
  explicit LocalFileBytes(const std::string& path);  // a file that cannot be opened reads as empty
  ~LocalFileBytes() override;
  LocalFileBytes(const LocalFileBytes&) = delete;
  LocalFileBytes& operator=(const LocalFileBytes&) = delete;

  std::uint64_t size() override { return size_; }
  bool read(std::uint64_t offset, std::size_t length, char* out) override;
  bool is_local_file() const override { return true; }

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace kerchunkfs::sources
