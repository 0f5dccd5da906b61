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

TEST_CASE("children are listed in the order their keys come, whether they are consecutive or not") {
  // Runs of one directory's keys, interleaved directories, keys given again (the later one moves
  // to the end), a directory first met in the middle of another's run. The expected lists are
  // worked out here from the keys alone: a directory appears when a key first needs it, a file
  // where its last definition comes.
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("run/" + std::to_string(i));                      // one run
  for (int i = 0; i < 30; ++i) keys.push_back((i % 2 ? "odd/" : "even/") + std::to_string(i));  // interleaved
  for (int i = 0; i < 20; ++i) keys.push_back("again/" + std::to_string(i));
  keys.push_back("again/5");  // given twice: its run breaks
  for (int i = 0; i < 10; ++i) keys.push_back("outer/" + std::to_string(i) + (i == 4 ? "/inner/x" : ""));
  keys.push_back("top");
  std::string json = "{";
  std::map<std::string, std::vector<std::string>> expected;  // directory path -> child names in order
  std::set<std::string> directories{""};
  for (const std::string& key : keys) {
    json += (json.size() > 1 ? ", \"" : "\"") + key + "\": [\"f\", 0, 1]";
    std::string parent;
    std::size_t start = 0;
    for (std::size_t slash = key.find('/'); slash != std::string::npos; slash = key.find('/', start)) {
      const std::string path = key.substr(0, slash);
      if (directories.insert(path).second) expected[parent].push_back(key.substr(start, slash - start));
      parent = path;
      start = slash + 1;
    }
    auto& siblings = expected[parent];
    siblings.erase(std::remove(siblings.begin(), siblings.end(), key.substr(start)), siblings.end());
    siblings.push_back(key.substr(start));
  }
  const RefStore store = parse(json + "}");
  for (const auto& [path, names] : expected) {
    const auto directory = path.empty() ? std::optional<NodeId>(kRootNode) : store.find(path);
    REQUIRE(directory);
    std::vector<std::string> listed;
    const Children children = store.children(*directory);
    for (std::size_t i = 0; i < children.size(); ++i) listed.emplace_back(store.name(children[i]));
    INFO("directory \"" << path << "\"");
    CHECK(listed == names);
    std::vector<std::string> iterated;
    for (const NodeId child : children) iterated.emplace_back(store.name(child));
    CHECK(iterated == names);
  }
}
