// A reference file as parser input, without copying it: a regular file is mapped read-only into
// a reservation whose tail past the file's last page is anonymous zero memory, which gives the
// parsers the zero padding they read past the end. The parse reads it front to back, and the
// pages behind it are given back as it goes (release_before), so a file of gigabytes never is
// resident at once. Pipes and other streams are read into memory, and so are compressed
// reference sets (gzip, zstd), decompressed. The parser reads most of a large set with read()
// (refstore/read_window.h), and the mapping only where it needs the whole document at once.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>

#include "common/unique_fd.h"

namespace kerchunkfs::refstore {

class MappedInput {
 public:
  // Throws LoadError naming the path when it cannot be opened or read.
  explicit MappedInput(const std::string& path);
  MappedInput(const MappedInput&) = delete;
  MappedInput& operator=(const MappedInput&) = delete;
  ~MappedInput();

  simdjson::padded_string_view view() const;
  // Copies `size` bytes of view() from `offset` into `into` without touching the mapping (pread
  // on the file). Throws LoadError naming the path when the file cannot give them (it shrank).
  void read(std::uint64_t offset, char* into, std::size_t size) const;

  // Everything before `position` (in view()) has been read: its pages leave this process's
  // memory (read again from the page cache if touched again), and the next ones are mapped
  // ahead in one call rather than a page fault each.
  void release_before(const char* position);
  // [from, to) has been read by a second parsing thread: its whole pages leave this process's
  // memory. Safe to call from that thread while the first one calls release_before.
  void release_range(const char* from, const char* to) const;

 private:
  void decompress_if_needed(const std::string& path);
  void map_ahead(std::size_t from);

  // How far ahead of the parse the file is mapped.
  static constexpr std::size_t kWindow = 16 << 20;

  std::string path_;
  common::UniqueFd fd_{-1};  // the mapped file, while mapped
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
  std::size_t size_ = 0;
  std::size_t page_ = 4096;
  std::size_t released_ = 0;          // bytes from the start already given back
  std::size_t mapped_ahead_ = 0;      // bytes from the start already mapped
  simdjson::padded_string streamed_;  // used when the input is not a regular file
};

}  // namespace kerchunkfs::refstore
