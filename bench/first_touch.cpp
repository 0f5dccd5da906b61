// What this machine charges for fresh memory: maps MEGABYTES of anonymous memory in 2 MiB-aligned
// transparent huge pages, as the reference store's arrays are, and writes one byte per 4 KiB page.
// On a virtual machine whose host takes back freed memory, the first touch of a page costs a
// host fault as well as the guest's zeroing.
// Usage: kerchunkfs-bench-first-touch MEGABYTES
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "common/huge_pages.h"

int main(int argc, char* argv[]) {
  if (argc != 2 || std::atol(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: %s MEGABYTES\n", argv[0]);
    return 2;
  }
  const std::size_t bytes = static_cast<std::size_t>(std::atol(argv[1])) << 20;
  const auto start = std::chrono::steady_clock::now();
  auto* memory = static_cast<volatile char*>(kerchunkfs::common::map_huge(bytes, false));
  if (memory == nullptr) {
    std::fprintf(stderr, "cannot map %zu bytes\n", bytes);
    return 1;
  }
  for (std::size_t at = 0; at < bytes; at += 4096) memory[at] = 1;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  kerchunkfs::common::unmap_huge(const_cast<char*>(memory), bytes);
  std::printf("megabytes %zu seconds %.3f ms_per_mb %.3f\n", bytes >> 20, seconds, seconds * 1000 / (bytes >> 20));
  return 0;
}
