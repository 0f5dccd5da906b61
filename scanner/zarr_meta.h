// zarr attributes read back from reference sets (ours or anyone's), for combining them (the
// arrays' own metadata is common/zarr_array.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/zarr_array.h"

namespace kerchunkfs::scanner {

using common::ArrayMeta;

// Attribute name → compact JSON text of its value.
using Attributes = std::map<std::string, std::string>;
[[nodiscard]] common::Result<Attributes> parse_attributes(std::string_view json);

// The JSON string's text, or nothing when `json` is not a JSON string.
std::optional<std::string> json_string(std::string_view json);
// _ARRAY_DIMENSIONS, or nothing when absent or malformed.
std::optional<std::vector<std::string>> dimension_names(const Attributes& attributes);

}  // namespace kerchunkfs::scanner
