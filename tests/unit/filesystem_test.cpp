#include "daemon/filesystem.h"

#include <fcntl.h>
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "filesystem_fixture.h"

using namespace kerchunkfs;
using daemon::EntryReply;
using daemon::Filesystem;
using daemon::kRootIno;
using testing::FakeSource;

namespace {

using Fixture = testing::FilesystemFixture;

const char* kSet =
    R"({".zgroup": "{\"zarr_format\": 2}", "v/.zarray": "{\"shape\": [4], \"chunks\": [2], \"dtype\": \"|u1\"}",
  "v/0": ["http://h/data", 2, 2], "v/1": ["http://h/data", 6, 2], "whole": ["http://h/data"], "gone": ["http://h/none", 0, 4]})";

}  // namespace

TEST_CASE("every content kind reads through one path, and errors name the key") {
  Fixture f(kSet);
  f.source->put("http://h/data", "0123456789");
  CHECK(f.read(f.path(".zgroup")) == R"({"zarr_format": 2})");
  CHECK(f.read(f.path("v/1")) == "67");
  CHECK(f.read(f.path("v/0"), 1, 10) == "3");
  CHECK(f.read(f.path("whole"), 8) == "89");
  CHECK(f.lookup(kRootIno, "whole").attr.st_size == 10);  // its size asked of the source
  const std::string missing = f.read(f.path("gone"));
  CHECK_THAT(missing, Catch::StartsWith("error 5: gone: http://h/none: HTTP 404"));
  CHECK_THAT(f.read(f.path(".zmetadata")), Catch::Contains("\"v/.zarray\""));
}

TEST_CASE("lookups answer attributes, negative entries and what is not a directory") {
  Fixture f(kSet);
  const EntryReply chunk = f.lookup(f.path("v"), "1");
  CHECK(S_ISREG(chunk.attr.st_mode));
  CHECK(chunk.attr.st_size == 2);
  CHECK(S_ISDIR(f.lookup(kRootIno, "v").attr.st_mode));
  const EntryReply absent = f.lookup(f.path("v"), "7");
  CHECK(absent.ino == 0);
  CHECK(absent.entry_timeout > 0);  // the kernel may remember that the chunk is absent
  common::Result<EntryReply> under_file = common::Error{""};
  f.filesystem->lookup(f.path("v/0"), "x", [&](common::Result<EntryReply> r) { under_file = std::move(r); });
  CHECK(under_file.error().code == ENOTDIR);
  CHECK(f.filesystem->open(f.path("v"), O_RDONLY).error().code == EISDIR);
  CHECK(f.filesystem->open(f.path("v/0"), O_WRONLY).error().code == EROFS);
  CHECK(f.filesystem->open(f.path("v/0"), O_RDONLY)->keep_cache);
}

TEST_CASE("listings show the set's names, the synthesized metadata, and count plus entries as lookups") {
  Fixture f(kSet);
  CHECK(f.list(kRootIno) == std::vector<std::string>{".", "..", ".zgroup", "v", "whole", "gone", ".zmetadata"});
  CHECK(f.list(f.path("v"), true) == std::vector<std::string>{".", "..", ".zarray", "0", "1"});
  // A listing entry is a lookup: once forgotten as often as it was given, the inode is gone.
  const daemon::Ino chunk = f.path("v/0");  // looked up once more here
  f.filesystem->forget(chunk, 2);
  CHECK(f.read(chunk) == "error 2: no such inode");
}

TEST_CASE("an old generation lives while the kernel holds an inode of it, and reads its own set") {
  Fixture f(kSet);
  f.source->put("http://h/data", "0123456789");
  f.source->put("http://h/new", "abcdefghij");
  const daemon::Ino old_directory = f.path("v");
  const daemon::Ino old_chunk = f.path("v/1");
  const auto names = f.filesystem->replace(
      daemon::ReferenceSet{refstore::RefStore::parse(R"({"v/1": ["http://h/new", 0, 3]})", {}).value(), {}}, {});
  CHECK(std::find(names.begin(), names.end(), "gone") != names.end());  // the old root's names, to invalidate
  CHECK(f.filesystem->generation_count() == 2);
  CHECK(f.read(old_chunk) == "67");
  CHECK(f.read(f.path("v/1")) == "abc");  // new lookups see the new set
  f.filesystem->forget(old_chunk, 1);
  CHECK(f.filesystem->generation_count() == 2);  // "v" of the old set is still held
  f.filesystem->forget(old_directory, 2);        // looked up twice: by path("v") and path("v/1")
  CHECK(f.filesystem->generation_count() == 1);
  CHECK(f.filesystem->counters().reloads == 1);
}

TEST_CASE("the statistics file is live and counts the cache and the set") {
  Fixture f(kSet);
  f.source->put("http://h/data", "0123456789");
  CHECK(f.read(f.path("v/0")) == "23");
  const daemon::Ino stats = f.lookup(f.lookup(kRootIno, ".kerchunkfs").ino, "stats").ino;
  const std::string text = f.read(stats);
  CHECK_THAT(text, Catch::Contains("kerchunkfs_cache_misses_total 1\n"));
  CHECK_THAT(text, Catch::Contains("kerchunkfs_references 6\n"));
  CHECK(f.filesystem->open(stats, O_RDONLY)->direct_io);
}
