#include "common/prefaulter.h"

#include <sys/mman.h>

#include <algorithm>

namespace kerchunkfs::common {

Prefaulter::Prefaulter(char* base, std::size_t bytes)
    : thread_([this, base, bytes] {
        constexpr std::size_t kStep = std::size_t{2} << 20;
        for (std::size_t done = 0; done < bytes && !stopping_.load(std::memory_order_relaxed); done += kStep) {
          // A failure (a kernel before 5.14, an unaligned heap block) leaves the faults to the writer.
          (void)::madvise(base + done, std::min(kStep, bytes - done), MADV_POPULATE_WRITE);
        }
      }) {}

Prefaulter::~Prefaulter() {
  stopping_.store(true, std::memory_order_relaxed);
  thread_.join();
}

}  // namespace kerchunkfs::common
