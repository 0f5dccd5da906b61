// Open-addressing hash index from (parent node, name) to a node id. A slot holds 32 bits of the
// hash beside the node id, so most probes never touch the nodes; the caller's predicate confirms
// a candidate. Rehashing needs only the stored bits, never the names.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace kerchunkfs::refstore {

std::uint64_t path_hash(std::uint32_t parent, std::string_view name);

class PathIndex {
 public:
  template <class Matches>
  std::optional<std::uint32_t> find(std::uint64_t hash, Matches&& matches) const {
    if (slots_.empty()) return std::nullopt;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t slot = slots_[i];
      if (slot == 0) return std::nullopt;
      if (static_cast<std::uint32_t>(slot >> 32) == tag) {
        const auto node = static_cast<std::uint32_t>(slot) - 1;
        if (matches(node)) return node;
      }
    }
  }
  // `node` must not be in the index yet.
  void insert(std::uint64_t hash, std::uint32_t node);
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(std::uint64_t); }

 private:
  void grow();
  void place(std::uint64_t slot);

  std::vector<std::uint64_t> slots_;  // (tag << 32) | (node + 1); 0 is empty
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace kerchunkfs::refstore
