#include "common/huge_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace kerchunkfs::common {

void* map_huge(std::size_t bytes, bool populate) noexcept {
  if (bytes == 0 || bytes > SIZE_MAX - kHugePage) return nullptr;
  // Mapped with a huge page of slack, then trimmed to an aligned start: mmap aligns to 4 KiB only.
  const std::size_t padded = bytes + kHugePage;
  void* mapped = ::mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) return nullptr;
  char* const start = static_cast<char*>(mapped);
  const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(start) % kHugePage;
  const std::size_t head = misalignment == 0 ? 0 : kHugePage - misalignment;
  char* const block = start + head;
  if (head > 0) ::munmap(start, head);
  // The tail from the page after the last byte (munmap takes whole pages, and so does unmap_huge).
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t length = (bytes + page - 1) / page * page;
  if (const std::size_t tail = padded - head - length; tail > 0) ::munmap(block + length, tail);
  // Either may fail (THP off, a kernel before 5.14): the memory is still good, in 4 KiB pages or
  // faulted in as written.
  (void)::madvise(block, bytes, MADV_HUGEPAGE);
  if (populate) (void)::madvise(block, bytes, MADV_POPULATE_WRITE);
  return block;
}

void unmap_huge(void* block, std::size_t bytes) noexcept {
  if (block != nullptr) ::munmap(block, bytes);
}

}  // namespace kerchunkfs::common
