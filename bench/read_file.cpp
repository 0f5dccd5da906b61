// What a first pass over a large file costs read where it is mapped and read through one reused
// buffer (as the reference-set parser does, refstore/read_window.h): on virtual machines that
// shadow the guest's page tables, the first touch of every newly mapped page traps to the host.
// Both passes add up the file's 8-byte words, so both read every byte once; the file should be in
// the page cache (run it twice).
// Usage: kerchunkfs-bench-read-file FILE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/unique_fd.h"

namespace {

std::uint64_t sum_words(const char* data, std::size_t size) {
  std::uint64_t sum = 0;
  for (std::size_t at = 0; at + 8 <= size; at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + at, 8);
    sum += word;
  }
  return sum;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  const kerchunkfs::common::UniqueFd fd(::open(argv[1], O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || st.st_size == 0) {
    std::fprintf(stderr, "%s: cannot read: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  const auto size = static_cast<std::size_t>(st.st_size);

  auto start = std::chrono::steady_clock::now();
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (mapping == MAP_FAILED) {
    std::fprintf(stderr, "%s: cannot map: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  (void)::madvise(mapping, size, MADV_POPULATE_READ);  // as the parser maps ahead
  std::uint64_t mapped_sum = sum_words(static_cast<const char*>(mapping), size);
  const double mapped = seconds_since(start);
  ::munmap(mapping, size);

  start = std::chrono::steady_clock::now();
  std::vector<char> buffer(std::size_t{1} << 20);
  std::uint64_t read_sum = 0;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n <= 0) {
      std::fprintf(stderr, "%s: cannot read: %s\n", argv[1], n < 0 ? std::strerror(errno) : "end of file");
      return 1;
    }
    read_sum += sum_words(buffer.data(), static_cast<std::size_t>(n));
    done += static_cast<std::size_t>(n);
  }
  const double buffered = seconds_since(start);
  if (mapped_sum != read_sum) {
    std::fprintf(stderr, "%s: the two passes read different bytes\n", argv[1]);
    return 1;
  }
  std::printf("megabytes %.0f mapped_seconds %.3f buffered_seconds %.3f\n", static_cast<double>(size) / 1e6, mapped,
              buffered);
  return 0;
}
