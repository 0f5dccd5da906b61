#include "fetch/answer_arena.h"

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "common/huge_pages.h"

namespace kerchunkfs::fetch {

struct AnswerBuffer::Block {
  char* base = nullptr;
  std::size_t live = 0;  // buffers carved from it and not yet released
};

// The arena's state, shared with its buffers: a buffer released after the arena ends still
// returns its memory here, and the last one out unmaps the blocks.
struct AnswerBuffer::Pool {
  mutable std::mutex mutex;
  Block* current = nullptr;  // the block answers are carved from now
  std::size_t used = 0;      // bytes of `current` carved so far
  std::vector<Block*> spare;
  std::size_t blocks = 0;      // blocks mapped, current and spare included
  std::size_t own_mapped = 0;  // bytes in own mappings

  Pool() { spare.reserve(AnswerArena::kSpareBlocks); }  // never grows: releasing allocates nothing
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    if (current != nullptr) drop(current);
    for (Block* block : spare) drop(block);
  }

  void drop(Block* block) {
    common::unmap_huge(block->base, AnswerArena::kBlockSize);
    delete block;
    --blocks;
  }

  // A block to carve from: a spare one, or a new one faulted in at once. Null without memory.
  Block* fresh_block() {
    if (!spare.empty()) {
      Block* block = spare.back();
      spare.pop_back();
      return block;
    }
    void* base = common::map_huge(AnswerArena::kBlockSize, true);
    if (base == nullptr) return nullptr;
    auto* block = new (std::nothrow) Block{static_cast<char*>(base), 0};
    if (block == nullptr) {
      common::unmap_huge(base, AnswerArena::kBlockSize);
      return nullptr;
    }
    ++blocks;
    return block;
  }

  void release(Block* block) {
    const std::lock_guard lock(mutex);
    if (--block->live != 0) return;
    if (block == current) {
      used = 0;  // nothing carved from it is alive: start it again
    } else if (spare.size() < AnswerArena::kSpareBlocks) {
      spare.push_back(block);
    } else {
      drop(block);
    }
  }
};

AnswerBuffer::~AnswerBuffer() {
  if (block_ != nullptr) {
    pool_->release(block_);
    return;
  }
  common::unmap_huge(data_, held_);
  const std::lock_guard lock(pool_->mutex);
  pool_->own_mapped -= held_;
}

bool AnswerBuffer::append(const char* bytes, std::size_t count) {
  if (count > capacity_ - size_) return false;
  std::memcpy(data_ + size_, bytes, count);
  size_ += count;
  return true;
}

AnswerArena::AnswerArena() : pool_(std::make_shared<AnswerBuffer::Pool>()) {}

std::shared_ptr<AnswerBuffer> AnswerArena::allocate(std::size_t capacity) {
  if (capacity == 0) return nullptr;
  if (capacity >= kOwnMappingFrom) {
    const std::size_t mapped = (capacity + common::kHugePage - 1) / common::kHugePage * common::kHugePage;
    void* data = common::map_huge(mapped, true);
    if (data == nullptr) return nullptr;
    auto* buffer = new (std::nothrow) AnswerBuffer(static_cast<char*>(data), capacity, mapped, nullptr, pool_);
    if (buffer == nullptr) {
      common::unmap_huge(data, mapped);
      return nullptr;
    }
    {
      const std::lock_guard lock(pool_->mutex);
      pool_->own_mapped += mapped;
    }
    return owned(buffer);
  }
  // Carved at 64-byte boundaries: answers never share a cache line.
  const std::size_t carved = (capacity + 63) / 64 * 64;
  AnswerBuffer::Block* block = nullptr;
  char* data = nullptr;
  {
    const std::lock_guard lock(pool_->mutex);
    AnswerBuffer::Pool& pool = *pool_;
    if (pool.current == nullptr || pool.used + carved > kBlockSize) {
      AnswerBuffer::Block* next = pool.fresh_block();
      if (next == nullptr) return nullptr;
      // The block given up still has live buffers (release restarts the current block when its
      // last one goes, so a full current block always has some): the last of them frees it.
      pool.current = next;
      pool.used = 0;
    }
    block = pool.current;
    data = block->base + pool.used;
    pool.used += carved;
    ++block->live;
  }
  auto* buffer = new (std::nothrow) AnswerBuffer(data, capacity, kBlockSize, block, pool_);
  if (buffer == nullptr) {
    pool_->release(block);
    return nullptr;
  }
  return owned(buffer);
}

std::shared_ptr<AnswerBuffer> AnswerArena::owned(AnswerBuffer* buffer) {
  // Callers are C callbacks (curl's): no exception may leave. Should the shared count not be
  // allocated, the buffer is deleted, and so released.
  try {
    return std::shared_ptr<AnswerBuffer>(buffer);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

std::size_t AnswerArena::mapped_bytes() const {
  const std::lock_guard lock(pool_->mutex);
  return pool_->blocks * kBlockSize + pool_->own_mapped;
}

}  // namespace kerchunkfs::fetch
