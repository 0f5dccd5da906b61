#include "tests/unit/refstore_test_util.h"

#include <algorithm>
#include <map>
#include <set>

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;

TEST_CASE("keys become a directory tree") {
  const RefStore store = parse(R"({
    ".zgroup": "{}", "g/.zgroup": "{}", "g/v/.zarray": "{}", "g/v/0.0": ["f", 0, 1],
    "g/v/0.1": ["f", 1, 1], "g/w/.zarray": "{}", "top/.zarray": "{}"
  })");
  const auto g = store.find("g");
  REQUIRE(g);
  CHECK(store.is_directory(*g));
  CHECK(store.is_directory(kRootNode));
  CHECK_FALSE(store.is_directory(*store.find("g/v/0.1")));
  CHECK(store.parent(*store.find("g/v")) == *g);
  CHECK(store.key(*store.find("g/v/0.1")) == "g/v/0.1");
  CHECK(store.lookup(*g, "v") == store.find("g/v"));
  CHECK_FALSE(store.lookup(*g, "missing"));
  CHECK_FALSE(store.find("g/v/0.1/deeper"));
  CHECK_FALSE(store.find("g/v/0"));

  std::set<std::string> names;
  for (const NodeId child : store.children(*store.find("g/v"))) names.emplace(store.name(child));
  CHECK(names == std::set<std::string>{".zarray", "0.0", "0.1"});
  CHECK(store.children(kRootNode).size() == 3);
  CHECK(store.node_count() == 12);  // root, 3 top-level names, 3 in g, 3 in g/v, 1 in g/w, 1 in top
}

TEST_CASE("a large tree: every key is found with its own value, children are complete") {
  // Keys that share directories, arrive interleaved and collide in short names, so the hash
  // index and the directory cache are both exercised.
  std::string json = "{";
  std::map<std::string, std::uint64_t> expected;
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "grp" + std::to_string(i % 7) + "/arr" + std::to_string(i % 13) + "/" +
                            std::to_string(i / 91) + "." + std::to_string(i % 91);
    expected[key] = static_cast<std::uint64_t>(i) * 10;
    json += (i ? "," : "") + std::string("\"") + key + "\": [\"data.h5\", " + std::to_string(i * 10) + ", 10]";
  }
  json += "}";
  const RefStore store = parse(json);
  std::size_t files = 0;
  for (const auto& [key, offset] : expected) {
    const auto node = store.find(key);
    REQUIRE(node);
    REQUIRE(store.entry(*node).offset == offset);
    ++files;
  }
  std::size_t counted = 0;
  std::vector<NodeId> stack{kRootNode};
  while (!stack.empty()) {
    const NodeId node = stack.back();
    stack.pop_back();
    for (const NodeId child : store.children(node)) {
      CHECK(store.parent(child) == node);
      if (store.is_directory(child)) {
        stack.push_back(child);
      } else {
        ++counted;
      }
    }
  }
  CHECK(counted == files);
  CHECK(store.url_count() == 1);
}
