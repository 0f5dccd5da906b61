#include "refstore/path_index.h"

#include <cstring>

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

void PathIndex::insert(std::uint64_t hash, std::uint32_t node) {
  // Kept at most 70% full so probe sequences stay short.
  if ((size_ + 1) * 10 > slots_.size() * 7) grow();
  place(((hash >> 32) << 32) | (std::uint64_t{node} + 1));
  ++size_;
}

void PathIndex::place(std::uint64_t slot) {
  std::size_t i = static_cast<std::uint32_t>(slot >> 32) & mask_;
  while (slots_[i] != 0) i = (i + 1) & mask_;
  slots_[i] = slot;
}

void PathIndex::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  const std::size_t capacity = old.empty() ? 1024 : old.size() * 2;
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  for (const std::uint64_t slot : old) {
    if (slot != 0) place(slot);
  }
}

}  // namespace kerchunkfs::refstore
