// HDF5 attributes as zarr .zattrs JSON, with HDF5's and netCDF's bookkeeping attributes hidden.
#pragma once

#include <hdf5.h>

#include <map>
#include <string>
#include <vector>

namespace kerchunkfs::scanner {

// Every user attribute of `object` by name, each value as JSON text. Attributes of types JSON
// cannot carry (references, compounds) are left out.
std::map<std::string, std::string> user_attributes(hid_t object);

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

// A string attribute's text, or "" when there is no such string attribute.
std::string string_attribute(hid_t object, const char* name);

}  // namespace kerchunkfs::scanner
