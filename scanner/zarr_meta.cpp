#include "scanner/zarr_meta.h"

#include <simdjson.h>


namespace kerchunkfs::scanner {
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

std::optional<ArrayMeta> ArrayMeta::parse(std::string_view json, std::string& why) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(simdjson::padded_string(json)).get_object().get(object)) {
    why = "not a JSON object";
    return std::nullopt;
  }
  ArrayMeta meta;
  std::optional<std::vector<std::uint64_t>> shape, chunks;
  for (const auto field : object) {
    const std::string_view key = field.key;
    if (key == "shape") shape = integers(field.value);
    else if (key == "chunks") chunks = integers(field.value);
    else if (key == "dtype") meta.dtype = simdjson::to_string(field.value);
    else if (key == "compressor") meta.compressor = simdjson::to_string(field.value);
    else if (key == "filters") meta.filters = simdjson::to_string(field.value);
    else if (key == "fill_value") meta.fill_value = simdjson::to_string(field.value);
    else if (key == "order") meta.order = simdjson::to_string(field.value);
    else if (key == "dimension_separator" && simdjson::to_string(field.value) != "\".\"") {
      why = "chunk keys separated by \"/\" are not supported";
      return std::nullopt;
    }
  }
  if (!shape || !chunks || shape->size() != chunks->size() || meta.dtype.empty()) {
    why = "no valid shape, chunks and dtype";
    return std::nullopt;
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

std::optional<Attributes> parse_attributes(std::string_view json, std::string& why) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(simdjson::padded_string(json)).get_object().get(object)) {
    why = "not a JSON object";
    return std::nullopt;
  }
  Attributes out;
  for (const auto field : object) out[std::string(field.key)] = simdjson::to_string(field.value);
  return out;
}

std::optional<std::string> json_string(std::string_view json) {
  simdjson::dom::parser parser;
  std::string_view text;
  if (parser.parse(simdjson::padded_string(json)).get_string().get(text)) return std::nullopt;
  return std::string(text);
}

std::optional<std::vector<std::string>> dimension_names(const Attributes& attributes) {
  const auto found = attributes.find("_ARRAY_DIMENSIONS");
  if (found == attributes.end()) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(simdjson::padded_string(found->second)).get_array().get(array)) return std::nullopt;
  std::vector<std::string> names;
  for (const auto item : array) {
    std::string_view name;
    if (item.get_string().get(name)) return std::nullopt;
    names.emplace_back(name);
  }
  return names;
}

}  // namespace kerchunkfs::scanner
