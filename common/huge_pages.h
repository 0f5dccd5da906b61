// Anonymous memory mapped directly and asked for transparent huge pages.
//
// On the virtual machines this project runs on, the first write to a 4 KiB page costs about
// 17 microseconds (a fault, and the host backing the page): filling 34 MB of fresh heap took
// 160 ms, the same in 2 MiB huge pages faulted in at once 4 ms (measured with a 16 KiB memset
// loop). Large, long-lived or frequently renewed memory is therefore taken here.
#pragma once

#include <cstddef>

namespace kerchunkfs::common {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// `bytes` of zeroed memory whose start is aligned to kHugePage, so that each whole 2 MiB of it can
// be one huge page (without THP, 4 KiB pages serve). `populate`: fault it all in now, in one call,
// rather than page by page as it is first written. Null when there is no memory for it.
[[nodiscard]] void* map_huge(std::size_t bytes, bool populate) noexcept;

// Returns memory map_huge gave, with the same `bytes`.
void unmap_huge(void* block, std::size_t bytes) noexcept;

}  // namespace kerchunkfs::common
