// The check a reference set passes before it is served: every URL it uses must have a source,
// and must be a target this mount may read (fetch/target_policy.h). A set that fails is refused
// whole, with the key and URL named, rather than failing read by read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fetch/http_source.h"
#include "fetch/source_registry.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

struct TargetRules {
  std::vector<std::string> local_roots;  // real paths; none: no local targets
  std::vector<std::string> hosts;        // allowed remote hosts; none: any
  bool allow_link_local = false;
};

// `key "K": URL: why` for the first key whose target is refused; nothing when all are allowed.
std::optional<std::string> find_refused_target(const refstore::RefStore& store, const fetch::SourceRegistry& sources,
                                               const TargetRules& rules);

}  // namespace kerchunkfs::daemon
