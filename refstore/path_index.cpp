#include "refstore/path_index.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "common/prefaulter.h"

namespace kerchunkfs::refstore {
namespace {

std::uint64_t mix(std::uint64_t value) {
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ULL;
  value ^= value >> 33;
  return value;
}

// Runs work(part) for part 0 .. parts - 1, the last one on the calling thread, and returns when
// all are done (also when one throws).
template <class Work>
void in_parts(unsigned parts, const Work& work) {
  std::vector<std::jthread> others;
  others.reserve(parts - 1);
  for (unsigned part = 0; part + 1 < parts; ++part) others.emplace_back([&work, part] { work(part); });
  work(parts - 1);
}

// The part-th of `parts` consecutive pieces of 0 .. count - 1.
std::pair<std::size_t, std::size_t> piece(std::size_t count, unsigned part, unsigned parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

// Stable LSD radix sort of slots by their upper 32 bits (the tag), 16 bits per pass, through
// `buffer` (at least as long; its contents are overwritten). Two passes leave the result in
// `slots`. Each pass counts and scatters in `parts` pieces at once: a piece's entries go after
// those of the pieces before it in every bucket, so the sort stays stable.
void sort_by_tag(BulkVector<std::uint64_t>& slots, BulkVector<std::uint64_t>& buffer, unsigned parts) {
  constexpr int kBits = 16;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  std::vector<std::vector<std::size_t>> counts(parts, std::vector<std::size_t>(kBuckets));
  const std::size_t count = slots.size();
  std::uint64_t* from = slots.data();
  std::uint64_t* to = buffer.data();
  for (int shift = 32; shift < 64; shift += kBits) {
    in_parts(parts, [&](unsigned part) {
      std::vector<std::size_t>& own = counts[part];
      std::fill(own.begin(), own.end(), 0);
      const auto [begin, end] = piece(count, part, parts);
      for (std::size_t i = begin; i < end; ++i) ++own[(from[i] >> shift) & (kBuckets - 1)];
    });
    std::size_t total = 0;
    for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
      for (auto& own : counts) {
        const std::size_t start = total;
        total += own[bucket];
        own[bucket] = start;
      }
    }
    in_parts(parts, [&](unsigned part) {
      std::vector<std::size_t>& next = counts[part];
      const auto [begin, end] = piece(count, part, parts);
      for (std::size_t i = begin; i < end; ++i) to[next[(from[i] >> shift) & (kBuckets - 1)]++] = from[i];
    });
    std::swap(from, to);
  }
}

}  // namespace

std::uint64_t path_hash(std::uint32_t parent, std::string_view name) {
  // Names are short (chunk keys like "12.7.3"), so eight bytes at a time with a strong finaliser
  // is fast and spreads well.
  std::uint64_t hash = mix(parent ^ (std::uint64_t{name.size()} << 32) ^ 0x9e3779b97f4a7c15ULL);
  std::size_t i = 0;
  for (; i + 8 <= name.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, name.data() + i, 8);
    hash = mix(hash ^ word);
  }
  if (i < name.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, name.data() + i, name.size() - i);
    hash = mix(hash ^ word);
  }
  return hash;
}

PathIndex PathIndex::build(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& ranges,
                           const std::function<std::uint64_t(std::uint32_t)>& hash_of,
                           const std::function<bool(std::uint32_t, std::uint32_t)>& same_key,
                           const std::function<void(std::uint32_t, std::uint32_t)>& on_duplicate) {
  PathIndex index;
  std::vector<std::size_t> range_starts;  // position in `sorted` of each range's first node
  std::size_t node_count = 0;
  for (const auto& [begin, end] : ranges) {
    range_starts.push_back(node_count);
    node_count += end - begin;
  }
  if (node_count == 0) return index;
  BulkVector<std::uint64_t> sorted(node_count);
  index.capacity_ = node_count + node_count / 4 + 1;  // see below
  index.slots_.reserve(index.capacity_ + 1);
  // While the hashes are computed, a second core faults the table in (see common/prefaulter.h).
  // Declared after `index`: stopped before the table could be freed.
  std::optional<common::Prefaulter> ahead;
  if (node_count >= kPrefaultFrom) {
    ahead.emplace(reinterpret_cast<char*>(index.slots_.data()), (index.capacity_ + 1) * sizeof(std::uint64_t));
  }
  // Large sets are hashed and sorted on two cores (the machines this runs on have two).
  const unsigned parts = node_count >= kTwoCoresFrom ? 2 : 1;
  in_parts(parts, [&](unsigned part) {
    const auto [begin, end] = piece(sorted.size(), part, parts);
    std::size_t range = std::upper_bound(range_starts.begin(), range_starts.end(), begin) - range_starts.begin() - 1;
    for (std::size_t i = begin; i < end; ++i) {
      if (range + 1 < range_starts.size() && i == range_starts[range + 1]) ++range;
      const auto node = static_cast<std::uint32_t>(ranges[range].first + (i - range_starts[range]));
      sorted[i] = (hash_of(node) >> 32 << 32) | (std::uint64_t{node} + 1);
    }
  });
  // Four home positions for every five nodes: probes stay short, and with the sweep below
  // the table costs 10 bytes per node. The table is the sort's buffer first: every fresh page
  // costs a fault (on virtual machines, most of the time of building the index).
  index.slots_.resize(index.capacity_ + 1);
  sort_by_tag(sorted, index.slots_, parts);
  std::fill(index.slots_.begin(), index.slots_.end(), 0);
  std::size_t next_free = 0;
  for (std::size_t i = 0; i < sorted.size();) {
    // A group of slots with one tag: usually one, more only for a 32-bit collision or a key
    // given twice. Sorting was stable, so the group is in node order.
    std::size_t end = i + 1;
    while (end < sorted.size() && (sorted[end] >> 32) == (sorted[i] >> 32)) ++end;
    for (std::size_t a = i; a < end; ++a) {
      for (std::size_t b = a + 1; b < end && sorted[a] != 0; ++b) {
        const auto node_a = static_cast<std::uint32_t>(sorted[a]) - 1;
        const auto node_b = static_cast<std::uint32_t>(sorted[b]) - 1;
        if (sorted[b] != 0 && same_key(node_a, node_b)) {
          on_duplicate(node_a, node_b);
          sorted[a] = 0;
        }
      }
    }
    for (std::size_t k = i; k < end; ++k) {
      if (sorted[k] == 0) continue;
      std::size_t position = std::max(index.home(static_cast<std::uint32_t>(sorted[k] >> 32)), next_free);
      if (position + 1 >= index.slots_.size()) index.slots_.resize(position + 2, 0);
      index.slots_[position] = sorted[k];
      next_free = position + 1;
    }
    i = end;
  }
  return index;
}

}  // namespace kerchunkfs::refstore
