#include "daemon/readahead.h"

#include <simdjson.h>

#include <algorithm>

namespace kerchunkfs::daemon {

using refstore::EntryKind;
using refstore::NodeId;

ReadAhead::ReadAhead(const refstore::RefStore& store, std::uint64_t budget_bytes)
    : store_(store), budget_(budget_bytes) {}

void ReadAhead::on_read(fetch::Fetcher& fetcher, std::span<const fetch::Target* const> targets, NodeId node,
                        const fetch::Extent& extent, std::uint64_t position, std::uint64_t length) {
  if (!extent.target->cached) return;
  if (fetcher.is_large(extent)) {
    // The block after the last one this read needs (a read past the end asks for nothing).
    fetcher.prefetch_range(extent, position + length, 1);
    return;
  }
  (void)on_chunk_read(fetcher, targets, node);
}

std::vector<NodeId> ReadAhead::on_chunk_read(fetch::Fetcher& fetcher, std::span<const fetch::Target* const> targets,
                                             NodeId node) {
  std::vector<NodeId> ahead = plan(node);
  std::vector<fetch::Extent> batch;
  batch.reserve(ahead.size());
  for (const NodeId next : ahead) {
    const refstore::Entry entry = store_.entry(next);
    if (entry.kind == EntryKind::Range && targets[entry.url]->cached) {
      batch.push_back(fetch::Extent{targets[entry.url], entry.offset, entry.length});
    }
  }
  if (!batch.empty()) fetcher.prefetch(batch);
  return ahead;
}

ReadAhead::Array ReadAhead::load_array(NodeId directory) const {
  Array array;
  const auto zarray = store_.lookup(directory, ".zarray");
  if (!zarray) return array;
  const refstore::Entry entry = store_.entry(*zarray);
  if (entry.kind != EntryKind::Inline) return array;
  // Nested chunk keys ("0/1/2", dimension_separator "/") live in subdirectories: not handled here.
  const auto meta = common::ArrayMeta::parse(entry.data);
  if (!meta) return array;
  array.grid = common::ChunkGrid::of(meta->shape, meta->chunks);
  if (array.grid && array.grid->chunk_count() == 0) array.grid.reset();
  return array;
}

std::vector<NodeId> ReadAhead::plan(NodeId chunk) {
  if (budget_ == 0) return {};
  const NodeId directory = store_.parent(chunk);
  const std::lock_guard lock(mutex_);
  auto found = arrays_.find(directory);
  if (found == arrays_.end()) found = arrays_.emplace(directory, load_array(directory)).first;
  Array& array = found->second;
  if (!array.grid) return {};
  const auto index = array.grid->index_of(store_.name(chunk));
  if (!index) return {};
  if (array.last == index) return {};  // another piece of the chunk being read

  const bool in_order = array.last && *index > *array.last && *index <= std::max(*array.last + 1, array.asked_until);
  if (!array.last) {
    array.window = kInitialWindow;
  } else if (in_order) {
    array.window = std::clamp<std::uint32_t>(array.window * kGrowth, kInitialWindow, kMaxWindow);
  } else {
    array.window = 0;  // a jump: reading ahead would only fetch what nobody reads
    array.asked_until = *index;
  }
  array.last = *index;

  std::vector<NodeId> ahead;
  std::uint64_t bytes = 0;
  const std::uint64_t first = std::max(*index + 1, in_order ? array.asked_until + 1 : 0);
  const std::uint64_t end = std::min(array.grid->chunk_count(), *index + 1 + array.window);
  std::uint64_t next = first;
  for (; next < end && bytes < budget_; ++next) {
    const auto node = store_.lookup(directory, array.grid->key_of(next));
    if (!node) continue;  // never written: reads as the fill value
    ahead.push_back(*node);
    bytes += store_.entry(*node).length;
  }
  if (next > first) array.asked_until = next - 1;
  return ahead;
}

}  // namespace kerchunkfs::daemon
