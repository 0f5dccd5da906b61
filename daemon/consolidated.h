// Consolidated metadata (zarr v2's .zmetadata) for a reference set that has none: every .zgroup,
// .zattrs and .zarray in one JSON document, so zarr.open_consolidated and
// xarray.open_zarr(consolidated=True) open a large hierarchy with one read.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

inline constexpr const char* kConsolidatedName = ".zmetadata";

// The text a view shows for a metadata node where it differs from the stored text (the decoded
// view's .zarray files); nothing: the stored text.
using ShownText = std::function<std::optional<std::string>(refstore::NodeId)>;

// The document, keys sorted; "" when the set has its own .zmetadata and no view changes what it
// shows. Metadata whose value is not inline JSON (a reference, or invalid text) is left out rather
// than read or guessed.
std::string consolidated_metadata(const refstore::RefStore& store, const ShownText& shown = {});

}  // namespace kerchunkfs::daemon
