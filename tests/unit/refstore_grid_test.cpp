// Chunk keys listed in C order are kept as grid runs (refstore/grid_run.h): no names, no index
// slots. Whatever order a set lists its keys in, the tree must be the one a plain map of the
// set's keys describes (the last definition of a key stands), checked here against such a map.

#include <map>
#include <random>
#include <set>

#include "refstore/grid_run.h"
#include "tests/unit/refstore_test_util.h"

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;

namespace {

struct Listed {
  std::string json = "{";
  std::map<std::string, std::uint64_t> offsets;  // key → the offset its last definition gives
  std::uint64_t next_offset = 0;

  void add(const std::string& key) {
    json += (json.size() > 1 ? ", \"" : "\"") + key + "\": [\"f\", " + std::to_string(next_offset) + ", 1]";
    offsets[key] = next_offset++;
  }
};

std::string chunk_key(const std::vector<std::uint32_t>& coords) {
  std::string name;
  for (const std::uint32_t c : coords) name += (name.empty() ? "" : ".") + std::to_string(c);
  return name;
}

// The grid's coordinates in C order from `start` (its flat position), `count` of them.
std::vector<std::string> c_order(const std::vector<std::uint32_t>& shape, std::uint64_t start, std::uint64_t count) {
  std::vector<std::string> names;
  for (std::uint64_t flat = start; flat < start + count; ++flat) {
    std::vector<std::uint32_t> coords(shape.size());
    std::uint64_t rest = flat;
    for (std::size_t d = shape.size(); d-- > 0;) {
      coords[d] = static_cast<std::uint32_t>(d == 0 ? rest : rest % shape[d]);
      rest = d == 0 ? 0 : rest / shape[d];
    }
    names.push_back(chunk_key(coords));
  }
  return names;
}

// Every key of the map found with its value, its key and name spelt back, every directory
// (the root too) listing exactly the names the map's keys give below it, in node order.
void check_against(const RefStore& store, const Listed& listed) {
  std::map<std::string, std::set<std::string>> listing;
  for (const auto& [key, offset] : listed.offsets) {
    INFO("key " << key);
    const auto node = store.find(key);
    REQUIRE(node);
    CHECK(store.entry(*node).offset == offset);
    CHECK(store.key(*node) == key);
    CHECK_FALSE(store.is_replaced(*node));
    const std::size_t slash = key.rfind('/');
    const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
    CHECK(store.name(*node) == name);
    for (std::size_t end = key.find('/'), start = 0;; start = end + 1, end = key.find('/', start)) {
      listing[start == 0 ? "" : key.substr(0, start - 1)].insert(key.substr(start, end - start));
      if (end == std::string::npos) break;
    }
  }
  // A walk over the whole store sees every key of the map once, with the entry lookups give.
  std::set<std::string> walked;
  std::size_t visits = 0;
  store.for_each_entry([&](NodeId node, const Entry& entry) {
    ++visits;
    CHECK_FALSE(store.is_replaced(node));
    CHECK(entry.offset == store.entry(node).offset);
    CHECK(entry.kind == store.entry(node).kind);
    if (entry.kind != EntryKind::Directory) walked.insert(store.key(node));
  });
  std::size_t live = 0;
  for (NodeId node = 0; node < store.node_count(); ++node) live += store.is_replaced(node) ? 0 : 1;
  CHECK(visits == live);
  // The walk over named nodes sees every key that is not chunk coordinates.
  std::set<std::string> named;
  store.for_each_named_entry([&](NodeId node, const Entry& entry) {
    CHECK_FALSE(store.is_replaced(node));
    CHECK(entry.offset == store.entry(node).offset);
    named.insert(store.key(node));
  });
  for (const auto& [key, offset] : listed.offsets) {
    if (!parse_chunk_name(key.substr(key.rfind('/') + 1))) CHECK(named.contains(key));
  }
  std::set<std::string> keys;
  for (const auto& [key, offset] : listed.offsets) keys.insert(key);
  CHECK(walked == keys);
  for (const auto& [directory, names] : listing) {
    const auto node = directory.empty() ? std::optional<NodeId>(kRootNode) : store.find(directory);
    REQUIRE(node);
    std::set<std::string> listed_names;
    NodeId previous = 0;
    for (const NodeId child : store.children(*node)) {
      CHECK(child > previous);
      previous = child;
      CHECK(store.parent(child) == *node);
      listed_names.insert(store.name(child));
    }
    CHECK(listed_names == names);
  }
}

}  // namespace

TEST_CASE("chunk names: only the canonical spelling of 1 to 8 coordinates") {
  for (const std::string name : {"0", "7", "12.0.3", "4294967294", "1.2.3.4.5.6.7.8", "0.0"}) {
    const auto coords = parse_chunk_name(name);
    REQUIRE(coords);
    CHECK(format_chunk_name(*coords) == name);
  }
  for (const std::string name : {"", ".", "0.", ".0", "0..1", "00", "01.2", "1.02", "+1", "-1", "1e3", " 1", "1 ",
                                 "4294967295", "99999999999", "1.2.3.4.5.6.7.8.9", ".zarray", "0.0a", "a"}) {
    INFO(name);
    CHECK_FALSE(parse_chunk_name(name));
  }
}

TEST_CASE("a grid run learns its extents as it wraps and finds its members by coordinates") {
  const std::vector<std::uint32_t> shape{1000, 4, 3};
  const auto names = c_order(shape, 7, 40);  // starts mid-row: 0.2.1
  GridRun run(100, 5, *parse_chunk_name(names[0]), 0);
  for (std::size_t i = 1; i < names.size(); ++i) REQUIRE(run.extend(*parse_chunk_name(names[i])));
  CHECK(run.count() == 40);
  for (std::uint32_t i = 0; i < names.size(); ++i) {
    CHECK(format_chunk_name(run.coords_of(i)) == names[i]);
    CHECK(run.index_of(*parse_chunk_name(names[i])) == i);
  }
  ChunkCoords walked = run.start();
  for (std::uint32_t i = 1; i < names.size(); ++i) {
    run.advance(walked);
    CHECK(format_chunk_name(walked) == names[i]);
  }
  // The members: 0.2.1 (flat position 7) to 3.3.1 (46).
  for (const std::string outside : {"0.2.0", "0.0.0", "3.3.2", "3.3.3", "3.4.0", "0.0.3", "0.4.0", "0.2", "0.2.1.0"}) {
    INFO(outside);
    CHECK_FALSE(run.index_of(*parse_chunk_name(outside)));
  }
  // What would contradict the extents learned, or skip a key, ends the run.
  GridRun copy = run;
  CHECK_FALSE(copy.extend(*parse_chunk_name("3.3.1")));  // the last member again
  CHECK_FALSE(copy.extend(*parse_chunk_name("3.3.3")));  // a row of 3 grew
  CHECK_FALSE(copy.extend(*parse_chunk_name("3.4.0")));  // 4 rows grew, a key skipped
  CHECK_FALSE(copy.extend(*parse_chunk_name("4.0.0")));  // a key skipped
  CHECK(copy.extend(*parse_chunk_name("3.3.2")));
  CHECK(copy.extend(*parse_chunk_name("4.0.0")));
}

TEST_CASE("keys in any order, given twice or clashing: the tree is the one the keys describe") {
  std::mt19937 random(20261202);
  for (int round = 0; round < 60; ++round) {
    INFO("round " << round);
    Listed listed;
    listed.add(".zgroup");
    const int arrays = 1 + static_cast<int>(random() % 3);
    for (int a = 0; a < arrays; ++a) {
      const std::string array = "g" + std::to_string(a % 2) + "/v" + std::to_string(a);
      std::vector<std::uint32_t> shape(1 + random() % 4);
      std::uint64_t cells = 1;
      for (std::size_t d = 0; d < shape.size(); ++d) {
        shape[d] = static_cast<std::uint32_t>(1 + random() % (d == 0 ? 40 : 6));
        cells *= shape[d];
      }
      listed.add(array + "/.zarray");
      std::vector<std::string> names = c_order(shape, 0, cells);
      switch (random() % 5) {
        case 0:  // lexicographic, as some tools sort keys
          std::sort(names.begin(), names.end());
          break;
        case 1:  // a piece moved to the end
          if (names.size() > 4)
            std::rotate(names.begin(), names.begin() + static_cast<long>(names.size() / 3), names.end());
          break;
        case 2:  // shuffled
          std::shuffle(names.begin(), names.end(), random);
          break;
        default:  // C order
          break;
      }
      for (const std::string& name : names) listed.add(array + "/" + name);
      // Some keys given again later: singly, or a whole stretch of the grid.
      if (random() % 2 == 0) {
        const auto again = c_order(shape, random() % cells, 1 + random() % cells);
        for (const std::string& name : again) {
          if (random() % 3 != 0) listed.add(array + "/" + name);
        }
      }
      if (random() % 3 == 0) listed.add(array + "/" + names[random() % names.size()]);
    }
    listed.json += "}";
    check_against(parse(listed.json), listed);
  }
}

TEST_CASE("names that are not the canonical spelling of a member are not found") {
  Listed listed;
  for (const auto& name : c_order({30, 10}, 0, 300)) listed.add("v/" + name);
  listed.json += "}";
  const RefStore store = parse(listed.json);
  check_against(store, listed);
  for (const std::string absent : {"v/00.0", "v/0.00", "v/30.0", "v/0.10", "v/1", "v/1.2.0", "v/+1.2", "v/0.0/x"}) {
    INFO(absent);
    CHECK_FALSE(store.find(absent));
  }
  // Most of what such a set costs is its 24-byte nodes: chunk names take no memory, no slots.
  CHECK(store.memory_bytes() < 301 * 24 + 1024);
}

TEST_CASE("a chunk key that is also a directory is refused, wherever the run is") {
  Listed listed;
  for (const auto& name : c_order({4, 8}, 0, 32)) listed.add("v/" + name);
  for (const std::string clash : {"v/2.3/x", "v/3.7/.zarray"}) {
    LoadOptions options;
    options.relative_base = "/base";
    const auto before = RefStore::parse("{\"" + clash + "\": \"x\", " + listed.json.substr(1) + "}", options);
    const auto after = RefStore::parse(listed.json + ", \"" + clash + "\": \"x\"}", options);
    const std::string key = clash.substr(0, clash.rfind('/'));
    CHECK(error_message(before) == "key \"" + key + "\" is both a file and a directory");
    CHECK(error_message(after) == "key \"" + key + "\" is both a file and a directory");
  }
}

TEST_CASE("a run ends below the largest coordinate: the key after it is an ordinary name") {
  Listed listed;
  for (std::uint64_t c = 4294967279; c <= 4294967299; ++c) listed.add("v/0." + std::to_string(c));
  listed.json += "}";
  // 4294967295 and above are names, not coordinates, though the key before counts up to them.
  CHECK_FALSE(parse_chunk_name("0.4294967295"));
  check_against(parse(listed.json), listed);
}
