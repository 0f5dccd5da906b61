// The JSON text every format's scanner writes into .zarray and .zattrs values.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kerchunkfs::sources {

// Name → JSON text as one JSON object, keys sorted.
std::string json_object(const std::map<std::string, std::string>& members);

// A JSON array of numbers ("[2, 3]": shapes, chunk shapes), of any unsigned integer type (HDF5's
// hsize_t is not std::uint64_t's type).
template <class Number>
std::string json_list(const std::vector<Number>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}
// A JSON array of strings (_ARRAY_DIMENSIONS).
std::string json_names(const std::vector<std::string>& names);

// A double as JSON text that reads back as exactly that value; NaN and infinities as zarr spells
// them (quoted) or as Python's json module does (bare).
std::string json_double(double value, bool quote_special);

}  // namespace kerchunkfs::sources
