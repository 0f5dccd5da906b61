// zarr v2 metadata read back from reference sets (ours or anyone's), for combining them: the
// fields compared or changed are parsed, everything else is kept as its JSON text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kerchunkfs::scanner {

struct ArrayMeta {
  std::vector<std::uint64_t> shape, chunks;
  // Compact JSON text of each remaining field ("null" where absent).
  std::string dtype, compressor, filters, fill_value, order = "\"C\"";

  // Nothing with `why` when the text is not a zarr v2 array (or uses "/" chunk key separators).
  static std::optional<ArrayMeta> parse(std::string_view json, std::string& why);
  std::string to_json() const;  // keys sorted
  // Everything but the shape: what must agree for arrays to be joined.
  bool same_encoding(const ArrayMeta& other) const;
};

// Attribute name → compact JSON text of its value.
using Attributes = std::map<std::string, std::string>;
std::optional<Attributes> parse_attributes(std::string_view json, std::string& why);

// The JSON string's text, or nothing when `json` is not a JSON string.
std::optional<std::string> json_string(std::string_view json);
// _ARRAY_DIMENSIONS, or nothing when absent or malformed.
std::optional<std::vector<std::string>> dimension_names(const Attributes& attributes);

}  // namespace kerchunkfs::scanner
