#include "scanner/zarr_meta.h"

#include <simdjson.h>

namespace kerchunkfs::scanner {
common::Result<Attributes> parse_attributes(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(simdjson::padded_string(json)).get_object().get(object)) {
    return common::Error{"not a JSON object"};
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
