// The file system over a set whose format keeps an array's chunks in a chunk table
// (daemon/reference_set.h), with a table made here: what the table says of each chunk is what
// lookups, listings and reads show, whatever the format behind it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>

#include "daemon/reference_set.h"
#include "filesystem_fixture.h"

using namespace kerchunkfs;
using daemon::ChunkReference;
using daemon::kRootIno;

namespace {

// Array "v" of 6 chunks: 0 inline, 1 a range, 2 and 3 missing, 4 unreadable, 5 a whole file.
class TableOfSix final : public daemon::ChunkTable {
 public:
  explicit TableOfSix(const refstore::RefStore& tree) : array_(*tree.lookup(refstore::kRootNode, "v")) {}
  const common::ChunkGrid* grid(refstore::NodeId directory) override { return directory == array_ ? &grid_ : nullptr; }
  std::uint64_t first_ordinal(refstore::NodeId /*directory*/) override { return 0; }
  common::Result<ChunkReference> chunk(refstore::NodeId /*directory*/, std::uint64_t index) override {
    switch (index) {
      case 0:
        return ChunkReference{ChunkReference::Kind::Inline, "in", "", 0, 2};
      case 1:
        return ChunkReference{ChunkReference::Kind::Range, "", "http://h/data", 3, 2};
      case 4:
        return common::Error{"refs.2: not what a table holds"};
      case 5:
        return ChunkReference{ChunkReference::Kind::WholeFile, "", "http://h/data", 0, 0};
      default:
        return ChunkReference{};
    }
  }
  bool listed(refstore::NodeId directory, std::uint64_t index) override {
    const auto found = chunk(directory, index);
    return !found || found->kind != ChunkReference::Kind::Missing;
  }

 private:
  refstore::NodeId array_;
  static constexpr std::uint64_t kShape[] = {12};
  static constexpr std::uint64_t kChunks[] = {2};
  common::ChunkGrid grid_ = *common::ChunkGrid::of(kShape, kChunks);
};

const char* kTree =
    R"({".zgroup": "{\"zarr_format\": 2}", "v/.zarray": "{\"shape\": [12], \"chunks\": [2], \"dtype\": \"|u1\"}"})";

struct Fixture : testing::FilesystemFixture {
  Fixture()
      : FilesystemFixture(kTree, {}, [this](const refstore::RefStore& tree, std::uint32_t /*generation*/) {
          auto made = std::make_unique<TableOfSix>(tree);
          table = made.get();
          return std::unique_ptr<daemon::ChunkTable>(std::move(made));
        }) {}
  TableOfSix* table = nullptr;
};

}  // namespace

TEST_CASE("a chunk table's chunks read as their references say, missing ones are absent") {
  Fixture f;
  f.source->put("http://h/data", "0123456789");
  CHECK(f.read(f.path("v/0")) == "in");
  CHECK(f.read(f.path("v/1")) == "34");
  CHECK(f.read(f.path("v/5")) == "0123456789");
  for (const char* missing : {"2", "3", "6", "x"}) {
    const auto reply = f.try_lookup(f.path("v"), missing);
    REQUIRE(reply);
    CHECK(reply->ino == 0);  // a negative entry: the reader's fill value
  }
  const auto unreadable = f.try_lookup(f.path("v"), "4");
  REQUIRE_FALSE(unreadable);
  CHECK(unreadable.error().code == EIO);
}

TEST_CASE("a listing shows the chunks a table does not know to be missing") {
  Fixture f;
  const auto names = f.list(f.path("v"));
  CHECK(names == std::vector<std::string>{".", "..", ".zarray", "0", "1", "4", "5"});
  // Offsets are those of the whole grid: a listing resumed after "1" goes on at "4".
  std::vector<std::string> rest;
  std::uint64_t after_one = 0;
  REQUIRE(f.filesystem->readdir(f.path("v"), 0, false, [&](const daemon::DirEntry& e) {
    if (e.name == "1") after_one = e.next_offset;
    return true;
  }));
  REQUIRE(f.filesystem->readdir(f.path("v"), after_one, false, [&](const daemon::DirEntry& e) {
    rest.emplace_back(e.name);
    return true;
  }));
  CHECK(rest == std::vector<std::string>{"4", "5"});
}
