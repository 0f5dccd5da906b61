// A stretch of the document copied into one buffer that is reused as the parse moves on: the
// parser reads the entries of a large set from it rather than from where the file is mapped.
// In virtual machines that shadow the guest's page tables, the first touch of every newly
// mapped page can trap to the host: a first pass over a 669 MB set where it was mapped took
// 0.25-0.35 s, copying it through one reused 1 MiB buffer 0.09 s (kerchunkfs-bench-read-file,
// bench/results/refstore_load.md). The buffer keeps the parsers' 64 zero bytes past what it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace kerchunkfs::refstore {

class ReadWindow {
 public:
  // Copies `size` bytes of the document from `offset` into `into`; throws LoadError when it
  // cannot.
  using Read = std::function<void(std::uint64_t offset, char* into, std::size_t size)>;

  // Holds up to `capacity` bytes of a document of `document_size` bytes; empty until move_to.
  ReadWindow(std::size_t capacity, std::uint64_t document_size, Read read);

  // The window from `offset` on, as much as the buffer holds or the document has: what it holds
  // already from there is moved to the front, the rest read.
  void move_to(std::uint64_t offset);

  const char* begin() const { return buffer_.get(); }
  const char* end() const { return buffer_.get() + size_; }
  std::size_t capacity() const { return capacity_; }
  bool reaches_document_end() const { return offset_ + size_ == document_size_; }
  // Where a position in the window is in the document.
  std::uint64_t offset_of(const char* position) const {
    return offset_ + static_cast<std::uint64_t>(position - buffer_.get());
  }

 private:
  std::size_t capacity_;
  std::uint64_t document_size_;
  Read read_;
  std::unique_ptr<char[]> buffer_;
  std::uint64_t offset_ = 0;
  std::size_t size_ = 0;
};

}  // namespace kerchunkfs::refstore
