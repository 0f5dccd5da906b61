#include "common/zarr_array.h"

#include <simdjson.h>

#include <charconv>

namespace kerchunkfs::common {
namespace {

std::optional<std::vector<std::uint64_t>> integers(simdjson::dom::element value) {
  simdjson::dom::array array;
  if (value.get_array().get(array)) return std::nullopt;
  std::vector<std::uint64_t> out;
  for (const auto item : array) {
    std::uint64_t number = 0;
    if (item.get_uint64().get(number)) return std::nullopt;
    out.push_back(number);
  }
  return out;
}

std::string list(const std::vector<std::uint64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

}  // namespace

common::Result<ArrayMeta> ArrayMeta::parse(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(simdjson::padded_string(json)).get_object().get(object)) {
    return common::Error{"not a JSON object"};
  }
  ArrayMeta meta;
  std::optional<std::vector<std::uint64_t>> shape, chunks;
  for (const auto field : object) {
    const std::string_view key = field.key;
    if (key == "shape")
      shape = integers(field.value);
    else if (key == "chunks")
      chunks = integers(field.value);
    else if (key == "dtype")
      meta.dtype = simdjson::to_string(field.value);
    else if (key == "compressor")
      meta.compressor = simdjson::to_string(field.value);
    else if (key == "filters")
      meta.filters = simdjson::to_string(field.value);
    else if (key == "fill_value")
      meta.fill_value = simdjson::to_string(field.value);
    else if (key == "order")
      meta.order = simdjson::to_string(field.value);
    else if (key == "dimension_separator" && simdjson::to_string(field.value) != "\".\"") {
      return common::Error{"chunk keys separated by \"/\" are not supported"};
    }
  }
  if (!shape || !chunks || shape->size() != chunks->size() || meta.dtype.empty()) {
    return common::Error{"no valid shape, chunks and dtype"};
  }
  meta.shape = std::move(*shape);
  meta.chunks = std::move(*chunks);
  for (std::string* text : {&meta.compressor, &meta.filters, &meta.fill_value}) {
    if (text->empty()) *text = "null";
  }
  return meta;
}

std::string ArrayMeta::to_json() const {
  return "{\"chunks\": " + list(chunks) + ", \"compressor\": " + compressor + ", \"dtype\": " + dtype +
         ", \"fill_value\": " + fill_value + ", \"filters\": " + filters + ", \"order\": " + order +
         ", \"shape\": " + list(shape) + ", \"zarr_format\": 2}";
}

bool ArrayMeta::same_encoding(const ArrayMeta& other) const {
  return chunks == other.chunks && dtype == other.dtype && compressor == other.compressor && filters == other.filters &&
         fill_value == other.fill_value && order == other.order && shape.size() == other.shape.size();
}

std::optional<ChunkGrid> ChunkGrid::of(std::span<const std::uint64_t> shape, std::span<const std::uint64_t> chunks) {
  if (shape.size() != chunks.size()) return std::nullopt;
  ChunkGrid grid;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (chunks[d] == 0) return std::nullopt;
    grid.counts_.push_back((shape[d] + chunks[d] - 1) / chunks[d]);
    grid.chunk_count_ *= grid.counts_.back();
  }
  return grid;
}

std::optional<std::uint64_t> ChunkGrid::index_of(std::string_view key) const {
  std::uint64_t index = 0;
  std::size_t dimension = 0;
  const std::size_t dimensions = std::max<std::size_t>(counts_.size(), 1);  // a 0-d array has chunk "0"
  while (true) {
    const std::size_t dot = key.find('.');
    const std::string_view part = key.substr(0, dot);
    std::uint64_t coordinate = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), coordinate);
    if (error != std::errc{} || end != part.data() + part.size() || part.empty() || dimension >= dimensions) {
      return std::nullopt;
    }
    const std::uint64_t extent = counts_.empty() ? 1 : counts_[dimension];
    if (coordinate >= extent) return std::nullopt;
    index = index * extent + coordinate;
    ++dimension;
    if (dot == std::string_view::npos) break;
    key.remove_prefix(dot + 1);
  }
  if (dimension != dimensions) return std::nullopt;
  return index;
}

std::vector<std::uint64_t> ChunkGrid::coordinates(std::uint64_t index) const {
  std::vector<std::uint64_t> out(counts_.size());
  for (std::size_t d = counts_.size(); d-- > 0;) {
    out[d] = index % counts_[d];
    index /= counts_[d];
  }
  return out;
}

std::string ChunkGrid::key_of(std::uint64_t index) const { return chunk_key(coordinates(index)); }

std::string chunk_key(std::span<const std::uint64_t> coordinates) {
  if (coordinates.empty()) return "0";
  std::string key;
  for (std::size_t d = 0; d < coordinates.size(); ++d) {
    if (d != 0) key += '.';
    key += std::to_string(coordinates[d]);
  }
  return key;
}

}  // namespace kerchunkfs::common
