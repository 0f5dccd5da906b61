#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/huge_pages.h"
#include "common/prefaulter.h"

namespace {
// Pages of [base, base + bytes) resident now, by mincore.
std::size_t resident_pages(const char* base, std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> flags((bytes + page - 1) / page);
  REQUIRE(::mincore(const_cast<char*>(base), bytes, flags.data()) == 0);
  std::size_t resident = 0;
  for (const unsigned char flag : flags) resident += flag & 1u;
  return resident;
}
}  // namespace

TEST_CASE("huge-page mappings start on a huge page and leave nothing mapped around them") {
  const auto mapped_kib = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmSize:", 0) == 0) return std::stoull(line.substr(7));
    }
    return 0ull;
  };
  const auto before = mapped_kib();
  for (const std::size_t bytes :
       {std::size_t{1}, std::size_t{4097}, std::size_t{3} << 20, (std::size_t{5} << 20) + 1}) {
    void* block = kerchunkfs::common::map_huge(bytes, true);
    REQUIRE(block != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(block) % kerchunkfs::common::kHugePage == 0);
    static_cast<char*>(block)[bytes - 1] = 'x';  // writable to the last byte
    kerchunkfs::common::unmap_huge(block, bytes);
  }
  CHECK(mapped_kib() == before);
}

TEST_CASE("a prefaulter faults its whole range in, and its memory keeps what is written meanwhile") {
  const std::size_t bytes = std::size_t{24} << 20;
  auto* block = static_cast<char*>(kerchunkfs::common::map_huge(bytes, false));
  REQUIRE(block != nullptr);
  const std::size_t all = bytes / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Most of it untouched so far (the kernel may have placed a huge page at its start already,
  // as seen under some address layouts): what the prefaulter must fault in.
  CHECK(resident_pages(block, bytes) <= all / 4);
  {
    kerchunkfs::common::Prefaulter ahead(block, bytes);
    // The first 4 MiB written meanwhile; the rest only the prefaulter touches.
    for (std::size_t i = 0; i < (std::size_t{4} << 20); i += 4096) block[i] = static_cast<char>(1 + i / 4096);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (resident_pages(block, bytes) < all && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  CHECK(resident_pages(block, bytes) == all);
  bool kept = true;
  for (std::size_t i = 0; i < bytes; i += 4096) {
    kept = kept && block[i] == (i < (std::size_t{4} << 20) ? static_cast<char>(1 + i / 4096) : '\0');
  }
  CHECK(kept);  // what was written is there, the rest reads as zeros
  kerchunkfs::common::unmap_huge(block, bytes);
}

TEST_CASE("a prefaulter ended at once leaves the rest of its range to the writer") {
  const std::size_t bytes = std::size_t{1} << 30;  // far more than it can fault in before it is told to stop
  auto* block = static_cast<char*>(kerchunkfs::common::map_huge(bytes, false));
  REQUIRE(block != nullptr);
  { kerchunkfs::common::Prefaulter ahead(block, bytes); }
  CHECK(resident_pages(block, bytes) < bytes / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)));
  kerchunkfs::common::unmap_huge(block, bytes);
}
