// Memory for the store's large arrays (nodes, names, the hash index, the builder's sort buffers):
// blocks of 4 MiB or more are mapped directly and asked for transparent huge pages, so a set of
// ten million keys fills its ~500 MB with a few hundred 2 MiB page faults instead of ~120,000
// 4 KiB ones (on virtual machines a page fault costs microseconds: it was a fifth of the load
// time). Smaller blocks come from the heap. Capacity reserved and never written costs address
// space, not memory.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "common/huge_pages.h"

namespace kerchunkfs::refstore {

template <class T>
class BulkAllocator {
 public:
  using value_type = T;

  BulkAllocator() noexcept = default;
  template <class U>
  BulkAllocator(const BulkAllocator<U>& /*other*/) noexcept {
  }  // NOLINT(google-explicit-constructor): as allocators convert

  T* allocate(std::size_t count) {
    if (count > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = count * sizeof(T);
    if (bytes < kMappedFrom) return std::allocator<T>().allocate(count);
    void* block = common::map_huge(bytes, false);
    if (block == nullptr) throw std::bad_alloc();
    return static_cast<T*>(block);
  }

  void deallocate(T* block, std::size_t count) noexcept {
    const std::size_t bytes = count * sizeof(T);
    if (bytes < kMappedFrom) return std::allocator<T>().deallocate(block, count);
    common::unmap_huge(block, bytes);
  }

  friend bool operator==(const BulkAllocator& /*a*/, const BulkAllocator& /*b*/) noexcept { return true; }

 private:
  static constexpr std::size_t kMappedFrom = std::size_t{4} << 20;
};

template <class T>
using BulkVector = std::vector<T, BulkAllocator<T>>;
using BulkString = std::basic_string<char, std::char_traits<char>, BulkAllocator<char>>;

}  // namespace kerchunkfs::refstore
