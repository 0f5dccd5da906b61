#include "daemon/prefetcher.h"

#include <simdjson.h>

#include <charconv>

namespace kerchunkfs::daemon {

using refstore::EntryKind;
using refstore::NodeId;

Prefetcher::Prefetcher(const refstore::RefStore& store, std::uint64_t budget_bytes)
    : store_(store), budget_(budget_bytes) {}

Prefetcher::Array Prefetcher::load_array(NodeId directory) const {
  Array array;
  const auto zarray = store_.lookup(directory, ".zarray");
  if (!zarray) return array;
  const refstore::Entry entry = store_.entry(*zarray);
  if (entry.kind != EntryKind::Inline) return array;
  simdjson::dom::parser parser;
  simdjson::dom::element meta;
  if (parser.parse(entry.data.data(), entry.data.size()).get(meta) != simdjson::SUCCESS) return array;
  // Nested chunk keys ("0/1/2") live in subdirectories: not handled here.
  std::string_view separator = ".";
  if (meta["dimension_separator"].get(separator) == simdjson::SUCCESS && separator != ".") return array;
  simdjson::dom::array shape, chunks;
  if (meta["shape"].get(shape) != simdjson::SUCCESS || meta["chunks"].get(chunks) != simdjson::SUCCESS ||
      shape.size() != chunks.size()) {
    return array;
  }
  array.chunk_count = 1;
  auto chunk = chunks.begin();
  for (const auto extent : shape) {
    std::uint64_t length = 0, step = 0;
    if (extent.get(length) != simdjson::SUCCESS || (*chunk).get(step) != simdjson::SUCCESS || step == 0) return Array{};
    const std::uint64_t count = (length + step - 1) / step;
    array.grid.push_back(count);
    array.chunk_count *= count;
    ++chunk;
  }
  array.usable = array.chunk_count > 0;
  return array;
}

std::optional<std::uint64_t> Prefetcher::linear_index(const Array& array, std::string_view name) const {
  std::uint64_t index = 0;
  std::size_t dimension = 0;
  const std::size_t dimensions = std::max<std::size_t>(array.grid.size(), 1);  // a 0-d array has chunk "0"
  while (true) {
    const std::size_t dot = name.find('.');
    const std::string_view part = name.substr(0, dot);
    std::uint64_t coordinate = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), coordinate);
    if (error != std::errc{} || end != part.data() + part.size() || dimension >= dimensions) return std::nullopt;
    const std::uint64_t extent = array.grid.empty() ? 1 : array.grid[dimension];
    if (coordinate >= extent) return std::nullopt;
    index = index * extent + coordinate;
    ++dimension;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return dimension == dimensions ? std::optional(index) : std::nullopt;
}

std::string Prefetcher::chunk_name(const Array& array, std::uint64_t index) const {
  if (array.grid.empty()) return "0";
  std::vector<std::uint64_t> coordinates(array.grid.size());
  for (std::size_t d = array.grid.size(); d-- > 0;) {
    coordinates[d] = index % array.grid[d];
    index /= array.grid[d];
  }
  std::string name;
  for (std::size_t d = 0; d < coordinates.size(); ++d) {
    if (d) name += '.';
    name += std::to_string(coordinates[d]);
  }
  return name;
}

std::vector<NodeId> Prefetcher::plan(NodeId chunk) {
  if (budget_ == 0) return {};
  const NodeId directory = store_.parent(chunk);
  std::lock_guard lock(mutex_);
  auto found = arrays_.find(directory);
  if (found == arrays_.end()) found = arrays_.emplace(directory, load_array(directory)).first;
  Array& array = found->second;
  if (!array.usable) return {};
  const auto index = linear_index(array, store_.name(chunk));
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
  const std::uint64_t end = std::min(array.chunk_count, *index + 1 + array.window);
  std::uint64_t next = first;
  for (; next < end && bytes < budget_; ++next) {
    const auto node = store_.lookup(directory, chunk_name(array, next));
    if (!node) continue;  // never written: reads as the fill value
    ahead.push_back(*node);
    bytes += store_.entry(*node).length;
  }
  if (next > first) array.asked_until = next - 1;
  return ahead;
}

}  // namespace kerchunkfs::daemon
