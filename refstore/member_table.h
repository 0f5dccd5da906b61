// The targets of grid run members (refstore/grid_run.h), in node order, packed in blocks of 16.
//
// Most of a large set is chunk references, and chunks of one array usually lie one after another
// in one file: a block whose 16 members share a URL and follow each other is its URL, its first
// offset and 16 lengths (5 bytes a member, headers included); one whose offsets merely lie within
// 4 GiB keeps a 32-bit distance for each (9 bytes); any other block keeps whole targets (17).
// Memory is what a large set's load costs on the machines this runs on (every fresh page is a
// fault), so this is most of the load time there. The last members stay unpacked until 16 more
// follow, so the member added last can still be set. A table is one or a few segments: what a
// second thread read joins the store without a copy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "refstore/bulk_allocator.h"
#include "refstore/store_target.h"

namespace kerchunkfs::refstore {

class MemberTable {
 public:
  static constexpr std::size_t kBlock = 16;

  MemberTable() : segments_(1), starts_{0} {}

  std::size_t size() const { return size_; }
  // Room for this many members in the first segment, reserved (address space, not memory).
  void reserve(std::size_t count);
  void push_back(const Target& target) {  // inline: once for every chunk key of a set
    Segment& segment = segments_.back();
    if (segment.tail.size() == kBlock) segment.pack_tail();
    segment.tail.push_back(target);
    ++segment.size;
    ++size_;
  }
  void pop_back();
  // The member added last (unpacked first if it was packed).
  Target& back() {
    Segment& segment = segments_.back();
    if (segment.tail.empty()) segment.unpack_last_block();
    return segment.tail.back();
  }
  Target operator[](std::size_t index) const;
  // Whether the members from `index` on are all in the last segment (there, they can be popped).
  bool in_last_segment(std::size_t index) const { return index >= starts_.back(); }

  // Calls visit(index, target) for the members [begin, end), unpacking each block once.
  template <class Visit>
  void visit(std::size_t begin, std::size_t end, Visit&& visit) const {
    for (std::size_t index = begin; index < end;) {
      const std::size_t s = segment_of(index);
      const Segment& segment = segments_[s];
      std::size_t local = index - starts_[s];
      const std::size_t local_end = std::min(end - starts_[s], segment.size);
      while (local < local_end) {
        const std::size_t block = local / kBlock;
        std::array<Target, kBlock> targets;
        const std::size_t filled = segment.unpack(block, targets);
        for (std::size_t slot = local % kBlock; slot < filled && local < local_end; ++slot, ++local, ++index) {
          visit(index, targets[slot]);
        }
      }
    }
  }

  // Another table's members renumbered for a store that numbers URLs and places inline bytes
  // differently: URL u becomes urls[u], an inline range moves by inline_base.
  void renumber(const std::vector<std::uint32_t>& urls, std::uint64_t inline_base);
  // Appends another table's members: its segments become ours.
  void adopt(MemberTable&& other);

  std::size_t memory_bytes() const;

 private:
  enum class Kind : std::uint8_t { Consecutive, Near, Whole };
  struct Header {
    std::uint64_t base;   // Consecutive, Near: the first (lowest) offset; the kind in the top byte
    std::uint32_t url;    // Consecutive, Near: the URL all members use
    std::uint32_t words;  // where the block's words start, in 16s
    Kind kind() const { return static_cast<Kind>(base >> 56); }
    std::uint64_t offset() const { return base & ((std::uint64_t{1} << 56) - 1); }
    std::size_t first_word() const { return std::size_t{words} * kBlock; }
  };
  static_assert(sizeof(Header) == 16);

  struct Segment {
    BulkVector<Header> headers;
    BulkVector<std::uint32_t> words;  // per block: 16 lengths; 16 lengths, 16 distances; 16 targets
    std::vector<Target> tail;         // the members after the last block, not yet packed
    std::size_t size = 0;

    void pack_tail();
    void unpack_last_block();
    // The block's targets (the tail for the block after the last); how many there are.
    std::size_t unpack(std::size_t block, std::array<Target, kBlock>& targets) const;
  };

  std::size_t segment_of(std::size_t index) const {
    std::size_t s = starts_.size() - 1;
    while (index < starts_[s]) --s;
    return s;
  }

  std::vector<Segment> segments_;
  std::vector<std::size_t> starts_;  // index of each segment's first member
  std::size_t size_ = 0;
};

}  // namespace kerchunkfs::refstore
