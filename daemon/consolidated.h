// Consolidated metadata (zarr v2's .zmetadata) for a reference set that has none: every .zgroup,
// .zattrs and .zarray in one JSON document, so zarr.open_consolidated and
// xarray.open_zarr(consolidated=True) open a large hierarchy with one read.
#pragma once

#include <string>

#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

inline constexpr const char* kConsolidatedName = ".zmetadata";

// The document, keys sorted; "" when the set has its own .zmetadata. Metadata whose value is not
// inline JSON (a reference, or invalid text) is left out rather than read or guessed.
std::string consolidated_metadata(const refstore::RefStore& store);

}  // namespace kerchunkfs::daemon
