#include "fetch/coalesce.h"

#include <algorithm>
#include <numeric>

namespace kerchunkfs::fetch {

std::vector<MergedRange> coalesce(std::span<const ByteRange> ranges, std::uint64_t max_gap, std::uint64_t max_block) {
  std::vector<std::size_t> order(ranges.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ranges[a].offset < ranges[b].offset; });
  std::vector<MergedRange> merged;
  for (const std::size_t index : order) {
    const ByteRange& range = ranges[index];
    if (!merged.empty()) {
      MergedRange& last = merged.back();
      const std::uint64_t last_end = last.offset + last.length;
      const std::uint64_t end = std::max(last_end, range.offset + range.length);
      if (range.offset <= last_end + max_gap && end - last.offset <= max_block) {
        last.length = end - last.offset;
        last.members.push_back(index);
        continue;
      }
    }
    merged.push_back(MergedRange{range.offset, range.length, {index}});
  }
  return merged;
}

}  // namespace kerchunkfs::fetch
