// DMR++ sidecars (OPeNDAP's XML index of an HDF5/netCDF4 granule: every variable's type, shape,
// filters, fill value and chunks) → the reference set of the granule, without reading it.
//
// Mapped: groups, the DAP4 atomic integer and float types in the byte order the chunks declare,
// enumerations (their base type, labels as CF flag_values/flag_meanings), Dim and Dimension
// declarations (shapes and _ARRAY_DIMENSIONS), typed attributes, dmrpp:chunks with their
// compressionType chain (deflate, shuffle, deflate twice; fletcher32 applied last left out of each
// range, applied earlier as numcodecs' fletcher32 codec in its place), fill values, chunk grids and every dmrpp:chunk,
// contiguous data (one chunk), dmrpp:compact (inlined) and dmrpp:missingdata; compound Structures whose records the
// sidecar shows packed (structured dtypes), compounds with strings from dmrpp:specialstructuredata and compact scalar
// strings (inlined, fixed-length). What cannot be mapped without the granule (chunked strings, compounds with gaps,
// opaque data, other filters, an unstated byte order unless the user states one) is refused by name, never guessed.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "sources/file_bytes.h"
#include "sources/scan_result.h"

namespace kerchunkfs::sources {

// A sidecar's name: its granule's with this added.
inline constexpr std::string_view kDmrppSuffix = ".dmrpp";

// Whether `location` names a DMR++ sidecar (it ends in ".dmrpp").
bool is_dmrpp(std::string_view location, FileBytes& bytes);

// The references of the granule the sidecar at `location` (read whole from `bytes`) describes.
[[nodiscard]] common::Result<ScanResult> scan_dmrpp(const std::string& location, FileBytes& bytes,
                                                    const ScanOptions& options);
// The same from the sidecar's text.
[[nodiscard]] common::Result<ScanResult> scan_dmrpp_text(const std::string& location, std::string_view sidecar,
                                                         const ScanOptions& options);

}  // namespace kerchunkfs::sources
