// An HDF5 filter pipeline as zarr v2 codecs, where every filter has a standard numcodecs id.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"

namespace kerchunkfs::sources {

struct ZarrFilters {
  std::string json = "null";  // the .zarray "filters" value, in the order HDF5 applied them when writing
  // Fletcher32 applied last appends a 4-byte checksum to each stored chunk: references leave it
  // out, so the remaining filters see exactly the bytes they wrote (the checksum is not verified).
  std::uint64_t checksum_bytes = 0;
};

// The dataset's filters as zarr codecs, or nothing with the reason in `why` (naming the filter).
[[nodiscard]] common::Result<ZarrFilters> zarr_filters(hid_t dataset_create_plist, std::size_t element_size);

}  // namespace kerchunkfs::sources
