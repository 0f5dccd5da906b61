// Memory for one decoded table, taken from the kernel in blocks of its own (mmap) and handed
// back whole when the table goes. A table evicted from a cache so returns every page it held at
// once, whichever thread made it: through malloc its memory would stay free in that thread's
// arena, and a mount decoding many tables in turn would grow past its cache's budget.
//
// Fresh pages cost a page fault each, which on some virtual machines costs more than decoding
// the table, so the blocks of tables that went are kept in a BlockPool (parquet.h; up to its
// bound) and reused, their pages still mapped, by the next tables.
//
// Allocation bumps a pointer; freeing one allocation does nothing until the arena goes, so its
// users size their vectors once (a column chunk's value count) rather than letting them grow.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <vector>

#include "parquet/parquet.h"

namespace kerchunkfs::parquet {

class MappedArena final : public std::pmr::memory_resource {
 public:
  // `pool`: where blocks come from and go back to (none: straight from and to the kernel).
  explicit MappedArena(std::shared_ptr<BlockPool> pool = nullptr) : pool_(std::move(pool)) {}
  MappedArena(const MappedArena&) = delete;
  MappedArena& operator=(const MappedArena&) = delete;
  ~MappedArena() override;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* /*p*/, std::size_t /*bytes*/, std::size_t /*alignment*/) override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  struct Block {
    void* start;
    std::size_t size;
  };
  std::shared_ptr<BlockPool> pool_;
  std::vector<Block> blocks_;
  char* next_ = nullptr;  // the free part of the last block
  std::size_t left_ = 0;
};

}  // namespace kerchunkfs::parquet
