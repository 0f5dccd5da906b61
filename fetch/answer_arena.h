// Memory for the answers of ranged reads, taken in huge pages.
//
// Every fetched range is copied from curl's receive buffer into memory that the block cache then
// holds, so a cold read of N bytes writes N bytes of memory the process has never touched. On
// this project's virtual machines a first write to a 4 KiB page costs ~17 us: reading 365 chunk
// files of 90 KB cold, about half of the daemon's CPU time went to those faults. Here answers below
// kOwnMappingFrom are carved one after another from 4 MiB blocks of huge pages, faulted in at
// once when a block is made, and larger ones get a huge-page mapping of their own.
//
// A block is free again when every answer carved from it is released. The cache evicts in least
// recently used order, which for ranges used once is close to the order they were carved in, and
// copies a range used a second time out of its block (Bytes::held is the block's size), so few
// survivors keep a block alive. A few free blocks are kept for reuse: their pages stay faulted in.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace kerchunkfs::fetch {

class AnswerArena;

// A fixed capacity of bytes, filled from the front.
class AnswerBuffer {
 public:
  AnswerBuffer(const AnswerBuffer&) = delete;
  AnswerBuffer& operator=(const AnswerBuffer&) = delete;
  ~AnswerBuffer();

  // False, appending nothing, when the bytes would not fit.
  [[nodiscard]] bool append(const char* bytes, std::size_t count);
  std::string_view view() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  // The memory this buffer keeps alive: its block, or its own mapping.
  std::size_t held() const { return held_; }

 private:
  friend class AnswerArena;
  struct Block;
  struct Pool;
  AnswerBuffer(char* data, std::size_t capacity, std::size_t held, Block* block, std::shared_ptr<Pool> pool)
      : data_(data), capacity_(capacity), held_(held), block_(block), pool_(std::move(pool)) {}

  char* data_;
  std::size_t size_ = 0;
  std::size_t capacity_;
  std::size_t held_;
  Block* block_;                // null: a mapping of its own (held_ bytes)
  std::shared_ptr<Pool> pool_;  // outlives the arena while buffers do
};

class AnswerArena {
 public:
  static constexpr std::size_t kBlockSize = std::size_t{4} << 20;
  static constexpr std::size_t kOwnMappingFrom = std::size_t{1} << 20;
  static constexpr std::size_t kSpareBlocks = 2;  // free blocks kept faulted in for reuse

  AnswerArena();
  // A buffer of `capacity` bytes (> 0); released, from any thread, when the last owner drops it.
  // Null when there is no memory for it; never throws.
  [[nodiscard]] std::shared_ptr<AnswerBuffer> allocate(std::size_t capacity);
  // Bytes mapped now: blocks (in use or spare) and own mappings.
  std::size_t mapped_bytes() const;

 private:
  static std::shared_ptr<AnswerBuffer> owned(AnswerBuffer* buffer);
  std::shared_ptr<AnswerBuffer::Pool> pool_;
};

}  // namespace kerchunkfs::fetch
