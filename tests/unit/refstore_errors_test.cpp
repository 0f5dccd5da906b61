#include "tests/unit/refstore_test_util.h"

#include <cstdio>
#include <fstream>

#include "refstore/compression.h"

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;
using Catch::Contains;

namespace {

// The message of the error that loading `json` must give.
std::string error_of(std::string_view json) {
  LoadOptions options;
  options.relative_base = "/base";
  const auto store = RefStore::parse(json, options);
  if (store) FAIL("no error for " << json);
  const std::string message = store.error().message;
  CHECK(message.find('\n') == std::string::npos);  // one line
  return message;
}

}  // namespace

TEST_CASE("invalid JSON is reported with its line and column") {
  CHECK_THAT(error_of("{\"a\": \"x\",\n \"b\": [1, 2,, 3]}"),
             Contains("key \"b\": invalid JSON in the value") && Contains("line 2, column 7"));
  CHECK_THAT(error_of("{\"a\": {\"x\": }}"), Contains("key \"a\": invalid JSON in the value"));
  CHECK_THAT(error_of("[1, 2]"), Contains("top level must be a JSON object"));
  CHECK_THAT(error_of("{\"a\": \"x\"} trailing"), Contains("invalid JSON"));
  CHECK_THAT(error_of("{\"a\": \"x\"} {}"),
             Contains("unexpected content after the top-level object at line 1, column 12"));
  CHECK_THAT(error_of("{\"a\": \"unterminated}"), Contains("invalid JSON"));
  CHECK_THAT(error_of(""), Contains("invalid JSON"));
}

TEST_CASE("references with wrong types or sizes name the key") {
  CHECK_THAT(error_of(R"({"k": ["f", -1, 10]})"), Contains("key \"k\": offset -1 must be a non-negative integer"));
  CHECK_THAT(error_of(R"({"k": ["f", 0, -5]})"), Contains("key \"k\": length -5 must be a non-negative integer"));
  CHECK_THAT(error_of(R"({"k": ["f", 1.5, 10]})"), Contains("offset 1.5 must be a non-negative integer"));
  CHECK_THAT(error_of(R"({"k": ["f", "7", 10]})"), Contains("offset \"7\" must be"));
  CHECK_THAT(error_of(R"({"k": ["f", 281474976710655, 1]})"), Contains("offset 281474976710655 is too large"));
  CHECK_THAT(error_of(R"({"k": ["f", 0, 18446744073709551616]})"), Contains("is too large"));
  CHECK_THAT(error_of(R"({"k": ["f", 1]})"),
             Contains("key \"k\": a reference is [url] or [url, offset, length], not 2"));
  CHECK_THAT(error_of(R"({"k": ["f", 1, 2, 3]})"), Contains("not 4+ elements"));
  CHECK_THAT(error_of(R"({"version": 1, "refs": {"k": ["f", true, 2]}})"), Contains("key \"k\": offset true"));
  CHECK_THAT(error_of(R"({"k": [null, 1, 2]})"),
             Contains("key \"k\": the reference has a null URL and no default target"));
}

TEST_CASE("bad base64 names the key") {
  CHECK_THAT(error_of(R"({"x/.zarray": "base64:not base64!"})"), Contains("key \"x/.zarray\": invalid base64 data"));
}

TEST_CASE("bad keys are refused") {
  CHECK_THAT(error_of(R"({"": "x"})"), Contains("empty key"));
  CHECK_THAT(error_of(R"({"/abs": "x"})"), Contains("key \"/abs\": empty path segment"));
  CHECK_THAT(error_of(R"({"a//b": "x"})"), Contains("key \"a//b\": empty path segment"));
  CHECK_THAT(error_of(R"({"a/": "x"})"), Contains("key \"a/\": empty path segment"));
  CHECK_THAT(error_of(R"({"a/../b": "x"})"), Contains("'.' and '..' path segments are not allowed"));
  CHECK_THAT(error_of(R"({"./b": "x"})"), Contains("'.' and '..'"));
  CHECK_THAT(error_of(R"({"a\u0000b": "x"})"), Contains("key \"a\\x00b\": NUL byte"));
  CHECK_THAT(error_of("{\"" + std::string(256, 'n') + "\": \"x\"}"), Contains("longer than 255 bytes"));
  CHECK_THAT(error_of(R"({"a": "x", "a/b": "y"})"), Contains("key \"a\" is both a file and a directory"));
  CHECK_THAT(error_of(R"({"a/b": "y", "a": "x"})"), Contains("key \"a\" is both a file and a directory"));
}

TEST_CASE("bad version-1 structure is refused") {
  CHECK_THAT(error_of(R"({"version": 2, "refs": {}})"), Contains("unsupported reference spec version 2"));
  CHECK_THAT(error_of(R"({"version": "1"})"), Contains("unsupported reference spec version \"1\""));
  CHECK_THAT(error_of(R"({"version": 1, "refs": []})"), Contains("\"refs\" must be an object"));
  CHECK_THAT(error_of(R"({"version": 1, "templates": {"t": 5}})"),
             Contains("template \"t\": the value must be a string"));
  CHECK_THAT(error_of(R"({"version": 1, "templates": {"t": "{{"}})"),
             Contains("template \"t\"") && Contains("closing"));
  CHECK_THAT(error_of(R"({"version": 1, "refs": {"k": ["{{nope}}/x", 0, 1]}, "templates": {"t": "y"}})"),
             Contains("key \"k\": URL \"{{nope}}/x\"") && Contains("unknown template or variable 'nope'"));
}

TEST_CASE("bad gen entries name the entry and the variables") {
  const auto gen = [](std::string_view body) {
    return error_of(std::string(R"({"version": 1, "gen": [)") + std::string(body) + "]}");
  };
  CHECK_THAT(
      gen(R"({"key": "k{{i}}", "url": "u", "offset": "{{100 // (2 - i)}}", "length": "1", "dimensions": {"i": {"stop": 5}}})"),
      Contains("gen[0] (i=2): division by zero"));
  CHECK_THAT(gen(R"({"key": "k{{i}}", "url": "{{missing}}", "dimensions": {"i": [1]}})"),
             Contains("gen[0] (i=1): unknown template or variable 'missing'"));
  CHECK_THAT(gen(R"({"key": "k{{i}}", "url": "u", "offset": "{{i - 3}}", "length": "1", "dimensions": {"i": [1]}})"),
             Contains("offset -2 is negative"));
  CHECK_THAT(gen(R"({"key": "k{{i}}", "url": "u", "offset": "x{{i}}", "length": "1", "dimensions": {"i": [1]}})"),
             Contains("offset \"x1\" is not an integer"));
  CHECK_THAT(gen(R"({"key": "k", "url": "u", "offset": "{{1 +}}", "length": "1", "dimensions": {"i": [1]}})"),
             Contains("gen[0]: \"offset\"") && Contains("ends early"));
  CHECK_THAT(gen(R"({"key": "k{{i}}", "url": "u", "offset": "1", "dimensions": {"i": [1]}})"),
             Contains("\"offset\" and \"length\" go together"));
  CHECK_THAT(gen(R"({"url": "u", "dimensions": {"i": [1]}})"), Contains("\"key\" and \"url\" are required"));
  CHECK_THAT(gen(R"({"key": "k", "url": "u"})"), Contains("\"dimensions\" is required"));
  CHECK_THAT(gen(R"({"key": "k", "url": "u", "dimensions": {"i": {"start": 1}}})"), Contains("\"stop\" is required"));
  CHECK_THAT(gen(R"({"key": "k", "url": "u", "dimensions": {"i": {"stop": 3, "step": 0}}})"),
             Contains("must not be 0"));
  CHECK_THAT(gen(R"({"key": "k{{i}}{{j}}", "url": "u", "dimensions": {"i": {"stop": 100000}, "j": {"stop": 100000}}})"),
             Contains("generate more than 100000000 keys (the limit"));
  CHECK_THAT(
      gen(R"({"key": "k{{i}}", "url": "u", "dimensions": {"i": {"stop": 2}}}, {"key": "k{{i}}/x", "url": "u", "dimensions": {"i": [0]}})"),
      Contains("key \"k0\" is both a file and a directory"));
}

TEST_CASE("load_file prefixes errors with the file name") {
  const std::string path = "kerchunkfs-unit-bad-refs.json";
  std::ofstream(path) << R"({"k": ["f", -1, 1]})";
  CHECK_THAT(error_message(RefStore::load_file(path, LoadOptions{})), Contains(path + ": key \"k\": offset -1"));
  std::remove(path.c_str());
  CHECK_THAT(error_message(RefStore::load_file("/nonexistent/refs.json", LoadOptions{})),
             Contains("/nonexistent/refs.json: cannot open the file: No such file or directory"));
}

TEST_CASE("sets that would exhaust memory are refused before they are built, with the limit named") {
  // A range of a trillion values is refused from its bounds alone, before anything is allocated.
  CHECK_THAT(
      error_of(
          R"({"version": 1, "gen": [{"key": "k{{i}}", "url": "u", "dimensions": {"i": {"stop": 1000000000000}}}]})"),
      Contains("the range has 1000000000000 values, more than the limit of 100000000"));
  LoadOptions small;
  small.max_keys = 5;
  CHECK_THAT(error_message(RefStore::parse(R"({"a": "1", "b": "2", "c": "3", "d/e": "4", "f": "5"})", small)),
             Contains("more than 5 keys and directories"));
  CHECK(RefStore::parse(R"({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"})", small));
  CHECK_THAT(error_message(RefStore::parse(
                 R"({"version": 1, "gen": [{"key": "k{{i}}", "url": "u", "dimensions": {"i": {"stop": 6}}}]})", small)),
             Contains("the range has 6 values, more than the limit of 5"));
  // Keys no program could open: longer than PATH_MAX, or deeper than it allows.
  std::string deep = "a";
  for (int i = 0; i < 3000; ++i) deep += "/a";
  CHECK_THAT(error_of("{\"" + deep + "\": \"x\"}"), Contains("longer than 4095 bytes"));
  CHECK_THAT(error_of("{\"" + std::string(300, 'n') + "\": \"x\"}"), Contains("path segment longer than 255 bytes"));
}

TEST_CASE("a compressed set that expands beyond the bound is refused, without holding more") {
  // 64 MiB of one byte: gzip and zstd make a few kilobytes of it.
  const std::string big(64u << 20, '{');
  for (const Compression compression : {Compression::Gzip, Compression::Zstd}) {
    const std::string packed = compress(big, compression);
    REQUIRE(packed.size() < (1u << 20));
    const auto refused = decompress(packed, compression, "https://host/bomb.json.gz", 1u << 20);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message ==
          "https://host/bomb.json.gz: expands to more than 1048576 bytes, the most a compressed reference set may");
    const auto whole = decompress(packed, compression, "https://host/bomb.json.gz", 64u << 20);
    REQUIRE(whole);
    CHECK(*whole == big);  // exactly the bound fits
  }
}
