#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "fetch/local_source.h"
#include "fetch/source_registry.h"
#include "fetch/url.h"

using namespace kerchunkfs::fetch;

namespace {

kerchunkfs::common::Result<ReadAnswer> read_now(ByteSource& source, const std::string& url, std::uint64_t offset,
                                                std::size_t length) {
  kerchunkfs::common::Result<ReadAnswer> out = kerchunkfs::common::Error{"no answer"};
  source.read(url, offset, length, [&](kerchunkfs::common::Result<ReadAnswer> result) { out = std::move(result); });
  return out;
}

}  // namespace

TEST_CASE("local reads return the bytes on disk, short only at the end of the file") {
  const std::string path = std::string(std::getenv("PWD") ? std::getenv("PWD") : ".") + "/kerchunkfs-unit-local.bin";
  std::ofstream(path, std::ios::binary) << "0123456789";
  LocalSource source(std::nullopt, 1);  // one descriptor: every other file evicts it
  CHECK(read_now(source, path, 2, 3)->bytes == "234");
  CHECK(read_now(source, "file://" + path, 8, 5)->bytes == "89");
  CHECK(read_now(source, path, 20, 5)->bytes.empty());
  const auto missing = read_now(source, path + ".missing", 0, 1);
  CHECK(missing.error().code == ENOENT);
  CHECK_THAT(missing.error().message, Catch::Contains(path + ".missing"));
  CHECK(read_now(source, path, 0, 10)->bytes == "0123456789");  // reopened after eviction

  kerchunkfs::common::Result<std::uint64_t> size = kerchunkfs::common::Error{"no answer"};
  source.size(path, [&](kerchunkfs::common::Result<std::uint64_t> result) { size = std::move(result); });
  REQUIRE(size);
  CHECK(*size == 10);
  std::remove(path.c_str());
}

TEST_CASE("URL schemes select sources; plain paths are files") {
  CHECK(url_scheme("/a/b") == "file");
  CHECK(url_scheme("rel/b") == "file");
  CHECK(url_scheme("file:///a") == "file");
  CHECK(url_scheme("s3://bucket/key") == "s3");
  CHECK(url_scheme("https://h/x") == "https");
  CHECK(url_scheme("weird name://x") == "file");
  const SourceRegistry registry = SourceRegistry::with_default_sources();
  CHECK(registry.find("/x") != nullptr);
  CHECK(registry.find("gopher://x") == nullptr);
  CHECK(registry.schemes() == "file, gcs, gs, http, https, s3");
}
