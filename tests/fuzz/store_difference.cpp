#include "tests/fuzz/store_difference.h"

#include <algorithm>

namespace kerchunkfs::fuzz {

std::string store_difference(const refstore::RefStore& a, const refstore::RefStore& b) {
  if (a.node_count() != b.node_count()) {
    return "node count " + std::to_string(a.node_count()) + " != " + std::to_string(b.node_count());
  }
  if (a.url_count() != b.url_count()) {
    return "URL count " + std::to_string(a.url_count()) + " != " + std::to_string(b.url_count());
  }
  for (std::uint32_t url = 0; url < a.url_count(); ++url) {
    if (a.url(url) != b.url(url)) return "URL " + std::to_string(url) + ": " + a.url(url) + " != " + b.url(url);
  }
  for (refstore::NodeId node = 0; node < a.node_count(); ++node) {
    const std::string where = "node " + std::to_string(node) + " (" + a.key(node) + "): ";
    if (a.is_replaced(node) != b.is_replaced(node)) return where + "replaced in one store only";
    if (a.key(node) != b.key(node)) return where + "key " + b.key(node) + " in the other";
    if (a.is_replaced(node)) continue;
    if (a.parent(node) != b.parent(node)) return where + "parents differ";
    if (node != refstore::kRootNode && (a.find(a.key(node)) != node || b.find(b.key(node)) != node)) {
      return where + "not found by its key";
    }
    const refstore::Entry x = a.entry(node);
    const refstore::Entry y = b.entry(node);
    if (x.kind != y.kind || x.data != y.data || x.url != y.url || x.offset != y.offset || x.length != y.length) {
      return where + "entries differ";
    }
    if (a.is_directory(node)) {
      const auto xs = a.children(node);
      const auto ys = b.children(node);
      if (!std::equal(xs.begin(), xs.end(), ys.begin(), ys.end())) return where + "children differ";
    }
  }
  return "";
}

}  // namespace kerchunkfs::fuzz
