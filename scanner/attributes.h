// HDF5 attributes as zarr .zattrs JSON, with HDF5's and netCDF's bookkeeping attributes hidden.
#pragma once

#include <hdf5.h>

#include <map>
#include <string>

namespace kerchunkfs::scanner {

// Every user attribute of `object` by name, each value as JSON text. Attributes of types JSON
// cannot carry (references, compounds) are left out.
std::map<std::string, std::string> user_attributes(hid_t object);

// Name → JSON text as one JSON object, keys sorted.
std::string json_object(const std::map<std::string, std::string>& members);

// A string attribute's text, or "" when there is no such string attribute.
std::string string_attribute(hid_t object, const char* name);

}  // namespace kerchunkfs::scanner
