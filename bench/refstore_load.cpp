// Loads a reference set the way the daemon does and reports time and memory.
// Usage: kerchunkfs-bench-load REFS.json [READ_WINDOW_BYTES]
// (READ_WINDOW_BYTES: LoadOptions::read_window_bytes, 0 reading the file where it is mapped.)
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "refstore/refstore.h"

namespace {

// A field of /proc/self/status in KiB, such as VmRSS (resident now) or VmHWM (peak resident).
long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s REFS.json [READ_WINDOW_BYTES]\n", argv[0]);
    return 2;
  }
  kerchunkfs::refstore::LoadOptions options;
  if (argc == 3) options.read_window_bytes = std::stoull(argv[2]);
  const long rss_before = status_kib("VmRSS");
  const auto start = std::chrono::steady_clock::now();
  const auto store = kerchunkfs::refstore::RefStore::load_file(argv[1], options);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  malloc_trim(0);  // hand the parse buffers back, as a long-running daemon's heap would
  const long rss = status_kib("VmRSS") - rss_before;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("nodes %zu seconds %.3f index_bytes %zu rss_kib %ld peak_kib %ld page_faults %ld threads %zu\n",
              store->node_count(), seconds, store->memory_bytes(), rss, status_kib("VmHWM"),
              usage.ru_minflt + usage.ru_majflt, store->read_by_threads());
  return 0;
}
