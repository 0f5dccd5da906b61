// The check a reference set passes before it is served: every URL it uses must have a source,
// and must be a target this mount may read (fetch/target_policy.h). A set that fails is refused
// whole, with the key and URL named, rather than failing read by read.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "daemon/filesystem_options.h"
#include "fetch/source_registry.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

// Fails with `key "K": URL: why` for the first key whose target `options` refuse (its
// local_roots, and its HTTP options' allowed hosts and link-local setting).
[[nodiscard]] common::Status check_targets(const refstore::RefStore& store, const fetch::SourceRegistry& sources,
                                           const FilesystemOptions& options);
// Why `options` refuse `url` as a target, or nothing (for URLs met while mounted: a parquet set's).
std::optional<std::string> target_refusal(const std::string& url, const fetch::SourceRegistry& sources,
                                          const FilesystemOptions& options);

}  // namespace kerchunkfs::daemon
