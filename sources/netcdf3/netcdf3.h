// netCDF classic files → reference sets: CDF-1 (classic), CDF-2 (64-bit offset) and CDF-5 (64-bit
// data), read from their header alone (at the start of the file: one request for a typical
// remote file).
//
// Every variable becomes an uncompressed zarr array of the big-endian type the file stores (char
// arrays: fixed-length strings along their last dimension), with its attributes,
// _ARRAY_DIMENSIONS and the netCDF fill value (its _FillValue, or the type's default fill). A
// record variable has one chunk per record, at begin + r × recsize (recsize: the padded slices of
// every record variable, or the one record variable's slice unpadded); a non-record variable is
// one chunk, or is split along its first axes like HDF5's contiguous datasets.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "sources/file_bytes.h"
#include "sources/scan_result.h"

namespace kerchunkfs::sources {

// Whether the file starts as a netCDF classic file does ("CDF" and version 1, 2 or 5).
bool is_netcdf3(std::string_view location, FileBytes& bytes);

// The references of the netCDF classic file `bytes` (named `location` in messages); an error names
// the file and the place in the header that is wrong.
[[nodiscard]] common::Result<ScanResult> scan_netcdf3(const std::string& location, FileBytes& bytes,
                                                      const ScanOptions& options);

}  // namespace kerchunkfs::sources
