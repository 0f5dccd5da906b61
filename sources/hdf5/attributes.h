// HDF5 attributes as zarr .zattrs JSON, with HDF5's and netCDF's bookkeeping attributes hidden.
#pragma once

#include <hdf5.h>

#include <map>
#include <string>
#include <vector>

#include "sources/json_text.h"

namespace kerchunkfs::sources {

// Every user attribute of `object` by name, each value as JSON text. Attributes of types JSON
// cannot carry (references, compounds) are left out.
std::map<std::string, std::string> user_attributes(hid_t object);

// A string attribute's text, or "" when there is no such string attribute.
std::string string_attribute(hid_t object, const char* name);

}  // namespace kerchunkfs::sources
