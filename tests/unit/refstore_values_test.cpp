#include "tests/unit/refstore_test_util.h"

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;

TEST_CASE("version 0: every value form") {
  const RefStore store = parse(R"({
    ".zgroup": "{\"zarr_format\": 2}",
    "text": "caf\u00e9 \"quoted\"",
    "b64": "base64:AAEC/w==",
    "object": {"zarr_format": 2, "nested": [1, {"a": null}]},
    "numbers": [1, 2.5, -3],
    "empty_list": [],
    "scalar": 42,
    "flag": true,
    "nothing": null,
    "range": ["data/file.h5", 100, 2000],
    "whole": ["s3://bucket/key.nc"],
    "absolute": ["/srv/x.h5", 0, 0],
    "file_url": ["file:///srv/y.h5", 1, 2]
  })");
  CHECK(inline_at(store, ".zgroup") == R"({"zarr_format": 2})");
  CHECK(inline_at(store, "text") == "caf\xc3\xa9 \"quoted\"");
  CHECK(inline_at(store, "b64") == std::string("\x00\x01\x02\xff", 4));
  CHECK(inline_at(store, "object") == R"({"zarr_format": 2, "nested": [1, {"a": null}]})");
  CHECK(inline_at(store, "numbers") == "[1, 2.5, -3]");
  CHECK(inline_at(store, "empty_list") == "[]");
  CHECK(inline_at(store, "scalar") == "42");
  CHECK(inline_at(store, "flag") == "true");
  CHECK(inline_at(store, "nothing") == "null");
  check_range(store, "range", "/base/data/file.h5", 100, 2000);
  check_range(store, "absolute", "/srv/x.h5", 0, 0);
  check_range(store, "file_url", "file:///srv/y.h5", 1, 2);
  const Entry whole = entry_at(store, "whole");
  CHECK(whole.kind == EntryKind::WholeFile);
  CHECK(store.url(whole.url) == "s3://bucket/key.nc");
}

TEST_CASE("version 1: refs with templates, inline and base64 values") {
  const RefStore store = parse(R"({
    "version": 1,
    "refs": {"a/.zarray": "{}", "a/0": ["{{root}}/f.h5", 8, 16], "b": "base64:aGk="},
    "templates": {"root": "https://example.org/data"}
  })");
  CHECK(inline_at(store, "a/.zarray") == "{}");
  CHECK(inline_at(store, "b") == "hi");
  check_range(store, "a/0", "https://example.org/data/f.h5", 8, 16);
}

TEST_CASE("null URLs take the default target") {
  LoadOptions options;
  options.default_target = "/data/default.h5";
  const RefStore store = loaded(RefStore::parse(R"({"x": [null, 4, 5], "y": [null]})", options));
  check_range(store, "x", "/data/default.h5", 4, 5);
  CHECK(store.url(entry_at(store, "y").url) == "/data/default.h5");
}

TEST_CASE("a repeated key keeps its last value, as Python's json does") {
  const RefStore store = parse(R"({"k": "first", "d/k": ["a", 1, 2], "k": "second", "d/k": ["b", 3, 4]})");
  CHECK(inline_at(store, "k") == "second");
  check_range(store, "d/k", "/base/b", 3, 4);
  CHECK(store.children(kRootNode).size() == 2);
}

TEST_CASE("offsets and lengths up to 2^48 - 2 are kept exactly") {
  const RefStore store =
      parse(R"({"big": ["f", 281474976710654, 281474976710654], "g4": ["f", 4294967296, 4294967297]})");
  check_range(store, "big", "/base/f", 281474976710654ULL, 281474976710654ULL);
  check_range(store, "g4", "/base/f", 4294967296ULL, 4294967297ULL);
}

TEST_CASE("numbers of every length, followed by anything JSON allows, are read exactly") {
  // The digits are read eight at a time; std::stoull is the reference.
  const std::string digits = "98765432198765";
  for (std::size_t length = 1; length <= digits.size(); ++length) {
    for (const std::string after : {"", " ", "\n", "\t "}) {
      const std::string offset = digits.substr(digits.size() - length);
      const std::string number = length == 1 ? "0" : digits.substr(0, length);
      INFO(offset << " " << number);
      const RefStore store = parse(R"({"k": ["f", )" + offset + after + ", " + number + after + "]}");
      check_range(store, "k", "/base/f", std::stoull(offset), std::stoull(number));
    }
  }
}

TEST_CASE("URLs are interned: one table entry per distinct URL") {
  const RefStore store =
      parse(R"({"a": ["x.h5", 0, 1], "b": ["y.h5", 0, 1], "c": ["x.h5", 5, 1], "d": ["y.h5", 9, 1]})");
  CHECK(store.url_count() == 2);
  CHECK(entry_at(store, "a").url == entry_at(store, "c").url);
}

TEST_CASE("keys and URLs with escape sequences are unescaped; plain ones are used in place") {
  const RefStore store =
      parse(R"({"a\/b": ["s3:\/\/bucket\/x.nc", 1, 2], "caf\u00e9/k\"q": ["plain.nc", 3, 4], "t\tab": "v"})");
  check_range(store, "a/b", "s3://bucket/x.nc", 1, 2);
  check_range(store, "caf\xc3\xa9/k\"q", "/base/plain.nc", 3, 4);
  CHECK(inline_at(store, "t\tab") == "v");
}
