#include "tests/unit/refstore_test_util.h"

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;

TEST_CASE("the specification's version-1 example expands to its documented version-0 form") {
  // The example and its expansion are those of kerchunk's docs/source/spec.rst.
  const RefStore store = parse(R"({
    "version": 1,
    "templates": {"u": "server.domain/path", "f": "{{c}}"},
    "gen": [{"key": "gen_key{{i}}", "url": "http://{{u}}_{{i}}", "offset": "{{(i + 1) * 1000}}",
             "length": "1000", "dimensions": {"i": {"stop": 5}}}],
    "refs": {"key0": "data", "key1": ["http://target_url", 10000, 100],
             "key2": ["http://{{u}}", 10000, 100], "key3": ["http://{{f(c='text')}}", 10000, 100]}
  })");
  CHECK(inline_at(store, "key0") == "data");
  check_range(store, "key1", "http://target_url", 10000, 100);
  check_range(store, "key2", "http://server.domain/path", 10000, 100);
  check_range(store, "key3", "http://text", 10000, 100);
  for (int i = 0; i < 5; ++i) {
    check_range(store, "gen_key" + std::to_string(i), "http://server.domain/path_" + std::to_string(i), 1000 * (i + 1),
                1000);
  }
  CHECK(store.children(kRootNode).size() == 9);
}

TEST_CASE("gen forms the cartesian product, last dimension fastest, with lists and steps") {
  const RefStore store = parse(R"({
    "version": 1,
    "gen": [{"key": "v/{{t}}.{{m}}", "url": "f_{{t}}.h5", "offset": "{{t * 100 + m}}", "length": 7,
             "dimensions": {"t": {"start": 10, "stop": 16, "step": 3}, "m": [0, 2]}}]
  })");
  const auto children = store.children(*store.find("v"));
  std::vector<std::string> names;
  for (const auto child : children) names.emplace_back(store.name(child));
  CHECK(names == std::vector<std::string>{"10.0", "10.2", "13.0", "13.2"});
  check_range(store, "v/13.2", "/base/f_13.h5", 1302, 7);
}

TEST_CASE("gen ranges follow Python's range, including negative steps and empty ranges") {
  const RefStore store = parse(R"({
    "version": 1,
    "gen": [{"key": "d/{{i}}", "url": "u", "dimensions": {"i": {"start": 5, "stop": -2, "step": -3}}},
            {"key": "e/{{i}}", "url": "u", "dimensions": {"i": {"start": 5, "stop": 5}}}]
  })");
  std::vector<std::string> names;
  for (const auto child : store.children(*store.find("d"))) names.emplace_back(store.name(child));
  CHECK(names == std::vector<std::string>{"5", "2", "-1"});  // list(range(5, -2, -3))
  CHECK(entry_at(store, "d/2").kind == EntryKind::WholeFile);
  CHECK_FALSE(store.find("e").has_value());
}

TEST_CASE("gen entries override refs with the same key, as fsspec applies gen last") {
  const RefStore store = parse(R"({
    "version": 1,
    "gen": [{"key": "k{{i}}", "url": "g", "offset": "1", "length": "2", "dimensions": {"i": [0]}}],
    "refs": {"k0": "inline"}
  })");
  check_range(store, "k0", "/base/g", 1, 2);
}
