// Compound values with variable-length string members, as zarr can hold them without an object
// codec: a packed structured dtype in which each such member is a fixed-length byte string as
// long as its longest value.
#pragma once

#include <hdf5.h>

#include "common/result.h"

#include <optional>
#include <string>

namespace kerchunkfs::sources {

struct StringRecords {
  std::string dtype;  // the structured dtype, JSON
  std::string bytes;  // every record, in that dtype
};

// Reads the whole dataset; nothing with `why` when a member is variable-length but not a string
// (zarr has no fixed form for it).
[[nodiscard]] common::Result<StringRecords> read_string_records(hid_t dataset, hid_t file_type);

}  // namespace kerchunkfs::sources
