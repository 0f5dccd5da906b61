// HDF5 and netCDF4 files → reference sets: zarr v2 metadata for every group and dataset, and a
// [url, offset, length] reference for every stored chunk, found in one pass over the file (the
// chunk index read from the file itself, sources/hdf5/chunk_index.h).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "sources/file_bytes.h"
#include "sources/scan_result.h"

namespace kerchunkfs::sources {

// Whether the file may be HDF5: always, as the last line of the table (the library says if not).
bool is_hdf5(std::string_view location, FileBytes& bytes);

// The references of the HDF5 file `bytes` at `location`; an error names the file and what the
// library or the file's own structures said.
[[nodiscard]] common::Result<ScanResult> scan_hdf5(const std::string& location, FileBytes& bytes,
                                                   const ScanOptions& options);

}  // namespace kerchunkfs::sources
