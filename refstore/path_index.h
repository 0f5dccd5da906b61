// Hash index from (parent node, name) to node id, built once in bulk after parsing.
//
// A slot is (tag << 32) | (node + 1), where tag is the top 32 bits of the node's path hash and 0
// marks an empty slot. A slot's home position is (tag * capacity) >> 32, which grows with the tag,
// so sorting the slots by tag (radix sort) and writing them in that order fills the table in
// one sequential sweep: linear probing without random writes. Lookups probe from the home
// position and confirm a tag match with the caller's predicate.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "refstore/bulk_allocator.h"

namespace kerchunkfs::refstore {

std::uint64_t path_hash(std::uint32_t parent, std::string_view name);

class PathIndex {
 public:
  // Indexes by `hash_of(node)` the nodes of the ranges [begin, end), given in ascending order. For two nodes
  // with the same tag, `same_key(a, b)` (a < b) says whether they share parent and name; then
  // `on_duplicate(a, b)` is called and the earlier node `a` is left out of the index.
  static PathIndex build(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& ranges,
                         const std::function<std::uint64_t(std::uint32_t)>& hash_of,
                         const std::function<bool(std::uint32_t, std::uint32_t)>& same_key,
                         const std::function<void(std::uint32_t, std::uint32_t)>& on_duplicate);

  template <class Matches>
  std::optional<std::uint32_t> find(std::uint64_t hash, Matches&& matches) const {
    if (capacity_ == 0) return std::nullopt;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (std::size_t i = home(tag);; ++i) {
      const std::uint64_t slot = slots_[i];
      if (slot == 0) return std::nullopt;
      if (static_cast<std::uint32_t>(slot >> 32) == tag) {
        const auto node = static_cast<std::uint32_t>(slot) - 1;
        if (matches(node)) return node;
      }
    }
  }

  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(std::uint64_t); }

 private:
  std::size_t home(std::uint32_t tag) const { return static_cast<std::size_t>((std::uint64_t{tag} * capacity_) >> 32); }

  static constexpr std::size_t kPrefaultFrom = std::size_t{1} << 20;  // nodes
  static constexpr std::size_t kTwoCoresFrom = std::size_t{1} << 18;  // nodes

  BulkVector<std::uint64_t> slots_;  // ends with at least one empty slot, so probes stop
  std::size_t capacity_ = 0;         // home positions are 0 .. capacity_ - 1
};

}  // namespace kerchunkfs::refstore
