#include "parquet/mapped_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>

namespace kerchunkfs::parquet {
namespace {

constexpr std::size_t kPage = 4096;

void* map(std::size_t size) {
  void* start = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (start == MAP_FAILED) throw std::bad_alloc();
  return start;
}

}  // namespace

BlockPool::~BlockPool() {
  for (void* block : spare_) ::munmap(block, kBlockSize);
}

void* BlockPool::take() {
  const std::lock_guard lock(mutex_);
  if (spare_.empty()) return nullptr;
  void* block = spare_.back();
  spare_.pop_back();
  return block;
}

void BlockPool::give(void* block) {
  {
    const std::lock_guard lock(mutex_);
    if (spare_.size() < most_spare_) {
      spare_.push_back(block);
      return;
    }
  }
  ::munmap(block, kBlockSize);
}

std::size_t BlockPool::spare_blocks() {
  const std::lock_guard lock(mutex_);
  return spare_.size();
}

MappedArena::~MappedArena() {
  for (const Block& block : blocks_) {
    if (pool_ && block.size == BlockPool::kBlockSize) {
      pool_->give(block.start);
    } else {
      ::munmap(block.start, block.size);
    }
  }
}

void* MappedArena::do_allocate(std::size_t bytes, std::size_t alignment) {
  const auto misalignment = reinterpret_cast<std::uintptr_t>(next_) % alignment;
  const std::size_t skip = misalignment == 0 ? 0 : alignment - misalignment;
  if (next_ != nullptr && skip + bytes <= left_) {
    char* at = next_ + skip;
    next_ = at + bytes;
    left_ -= skip + bytes;
    return at;
  }
  // A new block: a pool's for what fits one (blocks are page-aligned), whole pages of its own
  // for more. The rest of the block before stays unused.
  Block block{nullptr, BlockPool::kBlockSize};
  if (bytes > BlockPool::kBlockSize || alignment > kPage) {
    block.size = (bytes + alignment + kPage - 1) / kPage * kPage;
  } else if (pool_) {
    block.start = pool_->take();
  }
  if (block.start == nullptr) block.start = map(block.size);
  blocks_.push_back(block);
  next_ = static_cast<char*>(block.start);
  left_ = block.size;
  return do_allocate(bytes, alignment);
}

}  // namespace kerchunkfs::parquet
