#include "daemon/consolidated.h"

#include <simdjson.h>

#include <map>

#include "refstore/writer.h"

namespace kerchunkfs::daemon {

std::string consolidated_metadata(const refstore::RefStore& store, const ShownText& shown) {
  if (!shown && store.lookup(refstore::kRootNode, kConsolidatedName)) return "";
  std::map<std::string, std::string> documents;
  simdjson::dom::parser parser;
  // Metadata keys are never chunk keys: the chunk grids are passed over.
  store.for_each_named_entry([&](refstore::NodeId node, const refstore::Entry& entry) {
    if (entry.kind != refstore::EntryKind::Inline) return;
    const std::string name = store.name(node);
    if (name != ".zgroup" && name != ".zattrs" && name != ".zarray") return;
    simdjson::dom::element document;
    if (parser.parse(simdjson::padded_string(entry.data)).get(document) || !document.is_object()) return;
    std::optional<std::string> text = shown ? shown(node) : std::nullopt;
    documents.emplace(store.key(node), text ? std::move(*text) : std::string(entry.data));
  });
  std::string out = "{\"metadata\": {";
  bool first = true;
  for (const auto& [key, document] : documents) {
    out += (first ? "\n" : ",\n") + refstore::json_quote(key) + ": ";
    out += document;
    first = false;
  }
  return out + "\n}, \"zarr_consolidated_format\": 1}\n";
}

}  // namespace kerchunkfs::daemon
