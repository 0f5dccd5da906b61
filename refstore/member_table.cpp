#include "refstore/member_table.h"

#include <algorithm>
#include <cstring>

namespace kerchunkfs::refstore {
namespace {

constexpr int kKindShift = 56;
constexpr std::uint64_t kMaxNear = std::uint64_t{1} << 32;  // lengths and distances are 32-bit
constexpr std::size_t kTargetWords = sizeof(Target) / sizeof(std::uint32_t);

Target range(std::uint32_t url, std::uint64_t offset, std::uint64_t length) {
  Target target{url, 0, 0, 0, 0};
  target.set_offset(offset);
  target.set_length(length);
  return target;
}

}  // namespace

void MemberTable::reserve(std::size_t count) {
  // Whole targets at worst: the words never move while a set is read.
  Segment& segment = segments_.front();
  segment.headers.reserve(count / kBlock + 1);
  segment.words.reserve((count / kBlock + 1) * kBlock * kTargetWords);
}

void MemberTable::pop_back() {
  Segment& segment = segments_.back();
  if (segment.tail.empty()) segment.unpack_last_block();
  segment.tail.pop_back();
  --segment.size;
  --size_;
}

Target MemberTable::operator[](std::size_t index) const {
  const std::size_t s = segment_of(index);
  const Segment& segment = segments_[s];
  const std::size_t local = index - starts_[s];
  const std::size_t block = local / kBlock;
  const std::size_t slot = local % kBlock;
  if (block == segment.headers.size()) return segment.tail[slot];
  const Header& header = segment.headers[block];
  const std::uint32_t* words = segment.words.data() + header.first_word();
  switch (header.kind()) {
    case Kind::Consecutive: {
      std::uint64_t offset = header.offset();
      for (std::size_t k = 0; k < slot; ++k) offset += words[k];
      return range(header.url, offset, words[slot]);
    }
    case Kind::Near:
      return range(header.url, header.offset() + words[kBlock + slot], words[slot]);
    case Kind::Whole:
      break;
  }
  Target target;
  std::memcpy(&target, words + slot * kTargetWords, sizeof target);
  return target;
}

void MemberTable::Segment::pack_tail() {
  const Target& first = tail.front();
  bool near = first.target < kMaxUrls;  // a URL's range: not inline bytes
  bool consecutive = near;
  std::uint64_t base = first.offset();
  for (std::size_t k = 0; k < kBlock && near; ++k) {
    near = tail[k].target == first.target && tail[k].length() < kMaxNear;
    if (k > 0) consecutive = consecutive && tail[k].offset() == tail[k - 1].offset() + tail[k - 1].length();
    base = std::min(base, tail[k].offset());
  }
  for (std::size_t k = 0; k < kBlock && near; ++k) near = tail[k].offset() - base < kMaxNear;
  const std::size_t start = words.size();  // a multiple of 16: every block's words are
  const auto header = [&](Kind kind, std::uint64_t offset, std::uint32_t url) {
    return Header{(std::uint64_t{static_cast<std::uint8_t>(kind)} << kKindShift) | offset, url,
                  static_cast<std::uint32_t>(start / kBlock)};
  };
  if (near) {
    headers.push_back(
        header(consecutive ? Kind::Consecutive : Kind::Near, consecutive ? first.offset() : base, first.target));
    words.resize(start + (consecutive ? kBlock : 2 * kBlock));
    std::uint32_t* out = words.data() + start;
    for (std::size_t k = 0; k < kBlock; ++k) out[k] = tail[k].length_low;  // lengths < 2^32
    for (std::size_t k = 0; k < kBlock && !consecutive; ++k) {
      out[kBlock + k] = static_cast<std::uint32_t>(tail[k].offset() - base);
    }
  } else {
    headers.push_back(header(Kind::Whole, 0, 0));
    words.resize(start + kBlock * kTargetWords);
    std::memcpy(words.data() + start, tail.data(), kBlock * sizeof(Target));
  }
  tail.clear();
}

std::size_t MemberTable::Segment::unpack(std::size_t block, std::array<Target, kBlock>& targets) const {
  if (block == headers.size()) {
    std::copy(tail.begin(), tail.end(), targets.begin());
    return tail.size();
  }
  const Header& header = headers[block];
  const std::uint32_t* block_words = words.data() + header.first_word();
  switch (header.kind()) {
    case Kind::Consecutive: {
      std::uint64_t offset = header.offset();
      for (std::size_t k = 0; k < kBlock; ++k) {
        targets[k] = range(header.url, offset, block_words[k]);
        offset += block_words[k];
      }
      return kBlock;
    }
    case Kind::Near:
      for (std::size_t k = 0; k < kBlock; ++k) {
        targets[k] = range(header.url, header.offset() + block_words[kBlock + k], block_words[k]);
      }
      return kBlock;
    case Kind::Whole:
      break;
  }
  std::memcpy(targets.data(), block_words, kBlock * sizeof(Target));
  return kBlock;
}

void MemberTable::Segment::unpack_last_block() {
  std::array<Target, kBlock> targets;
  unpack(headers.size() - 1, targets);
  words.resize(headers.back().first_word());
  headers.pop_back();
  tail.assign(targets.begin(), targets.end());
}

void MemberTable::renumber(const std::vector<std::uint32_t>& urls, std::uint64_t inline_base) {
  const auto renumbered = [&](Target& target) {
    if (target.target == kInlineTarget) {
      target.set_offset(inline_base + target.offset());
    } else {
      target.target = urls[target.target];
    }
  };
  for (Segment& segment : segments_) {
    for (Header& header : segment.headers) {
      if (header.kind() != Kind::Whole) {
        header.url = urls[header.url];
        continue;
      }
      for (std::size_t k = 0; k < kBlock; ++k) {
        std::uint32_t* word = segment.words.data() + header.first_word() + k * kTargetWords;
        Target target;
        std::memcpy(&target, word, sizeof target);
        renumbered(target);
        std::memcpy(word, &target, sizeof target);
      }
    }
    for (Target& target : segment.tail) renumbered(target);
  }
}

void MemberTable::adopt(MemberTable&& other) {
  for (Segment& segment : other.segments_) {
    if (segment.size == 0) continue;
    size_ += segment.size;
    if (segments_.back().size == 0) {
      segments_.back() = std::move(segment);
    } else {
      starts_.push_back(size_ - segment.size);
      segments_.push_back(std::move(segment));
    }
  }
  other = MemberTable();
}

std::size_t MemberTable::memory_bytes() const {
  std::size_t bytes = 0;
  for (const Segment& segment : segments_) {
    bytes += segment.headers.size() * sizeof(Header) + segment.words.size() * sizeof(std::uint32_t) +
             segment.tail.size() * sizeof(Target);
  }
  return bytes;
}

}  // namespace kerchunkfs::refstore
