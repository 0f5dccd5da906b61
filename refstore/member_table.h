// The values of grid run members (refstore/grid_run.h), in node order, 16 bytes each. Kept as
// one or a few segments, so that what a second thread read joins the store without a copy.
#pragma once

#include <cstddef>
#include <vector>

#include "refstore/bulk_allocator.h"

namespace kerchunkfs::refstore {

template <class Value>
class SegmentedTable {
 public:
  SegmentedTable() : segments_(1), starts_{0} {}

  std::size_t size() const { return size_; }
  void reserve(std::size_t count) { segments_.back().reserve(count); }
  void push_back(const Value& value) {
    segments_.back().push_back(value);
    ++size_;
  }
  void pop_back() {
    segments_.back().pop_back();
    --size_;
  }
  Value& back() { return segments_.back().back(); }
  Value& operator[](std::size_t index) { return locate(*this, index); }
  const Value& operator[](std::size_t index) const { return locate(*this, index); }
  // Whether the values from `index` on are all in the last segment (there, they can be taken back).
  bool in_last_segment(std::size_t index) const { return index >= starts_.back(); }

  // Appends another table's values: its segments become ours.
  void adopt(SegmentedTable&& other) {
    for (std::size_t s = 0; s < other.segments_.size(); ++s) {
      if (other.segments_[s].empty()) continue;
      if (segments_.back().empty()) {
        segments_.back() = std::move(other.segments_[s]);
      } else {
        starts_.push_back(size_);
        segments_.push_back(std::move(other.segments_[s]));
      }
      size_ += segments_.back().size();
    }
    other = SegmentedTable();
  }

  std::size_t memory_bytes() const {
    std::size_t bytes = 0;
    for (const auto& segment : segments_) bytes += segment.capacity() * sizeof(Value);
    return bytes;
  }

 private:
  template <class Table>
  static auto& locate(Table& table, std::size_t index) {
    // Almost always one segment; two when a second thread read part of the set.
    std::size_t segment = table.starts_.size() - 1;
    while (index < table.starts_[segment]) --segment;
    return table.segments_[segment][index - table.starts_[segment]];
  }

  std::vector<BulkVector<Value>> segments_;
  std::vector<std::size_t> starts_;  // index of each segment's first value
  std::size_t size_ = 0;
};

}  // namespace kerchunkfs::refstore
