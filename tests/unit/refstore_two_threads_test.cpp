// A large set's entries read by two threads, each half into a builder of its own, then joined:
// the store must be the one a single thread builds, node numbers included, and a failing set
// must fail with the message a single thread gives.

#include <fstream>

#include "tests/fuzz/store_difference.h"
#include "tests/unit/refstore_test_util.h"

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;
using kerchunkfs::fuzz::store_difference;

namespace {

LoadOptions options_for(bool two_threads) {
  LoadOptions options;
  options.relative_base = "/base";
  options.default_target = "/data/default.h5";
  options.two_threads_from_bytes = two_threads ? 0 : std::size_t(-1);
  return options;
}

// Loads `json` both ways and checks the stores are the same; returns how many threads read the
// second load.
std::size_t same_both_ways(const std::string& json) {
  const RefStore one = loaded(RefStore::parse(json, options_for(false)));
  const RefStore two = loaded(RefStore::parse(json, options_for(true)));
  CHECK(one.read_by_threads() == 1);
  CHECK(store_difference(one, two).empty());
  INFO(store_difference(one, two));
  return two.read_by_threads();
}

std::string error_both_ways(const std::string& json, LoadOptions one_options = options_for(false)) {
  LoadOptions two_options = one_options;
  two_options.two_threads_from_bytes = 0;
  const auto one = RefStore::parse(json, one_options);
  const auto two = RefStore::parse(json, two_options);
  REQUIRE(!one);
  REQUIRE(!two);
  CHECK(one.error().message == two.error().message);
  return one.error().message;
}

// A version-0 set of `chunks` references per variable, with some of everything a set holds.
std::string varied_set(int variables, int chunks) {
  std::string json = R"({".zgroup": "{\"zarr_format\": 2}")";
  for (int v = 0; v < variables; ++v) {
    // The last group's directory is first met late in the set.
    const std::string name = "group" + std::to_string(v * 3 / variables) + "/var" + std::to_string(v);
    json += ", \"" + name + R"(/.zarray": {"chunks": [1], "dtype": "<f4", "note": "a, \"b\": c"})";
    json += ", \"" + name + R"(/.zattrs": "base64:eyJhIjogMX0=")";
    for (int c = 0; c < chunks; ++c) {
      json += ", \"" + name + "/" + std::to_string(c) + "\": ";
      if (c % 97 == 5) {
        json += R"("inline \"quoted\", \"k\": text")";
      } else if (c % 89 == 7) {
        json += "[null, " + std::to_string(c) + ", 10]";
      } else if (c % 83 == 3) {
        json += "[\"relative/whole_" + std::to_string(c % 5) + ".nc\"]";
      } else {
        json += "[\"s3://bucket/file_" + std::to_string(c % 7) + ".nc\", " + std::to_string(c * 100) + ", 100]";
      }
    }
    // An escaped key, and a key given again (the later value stands).
    json += ", \"" + name + R"(/\u0065scaped": "e", ")" + name + R"(/0": ["s3://bucket/again.nc", 1, 2])";
  }
  return json + "}";
}

// References only, without the closing brace.
std::string plain_refs(int count) {
  std::string json = "{";
  for (int i = 0; i < count; ++i)
    json += (i ? ", " : "") + std::string("\"v/") + std::to_string(i) + "\": [\"u\", 0, 1]";
  return json;
}

}  // namespace

TEST_CASE("two threads build the store one thread builds: directories, URLs, inline bytes, keys given twice") {
  CHECK(same_both_ways(varied_set(12, 400)) == 2);
  CHECK(same_both_ways(varied_set(24, 60)) == 2);
}

TEST_CASE("two threads: a version-1 set splits inside refs, with templates before and gen after") {
  std::string refs;
  for (int i = 0; i < 3000; ++i) {
    refs += (i ? ", " : "") + std::string("\"a/") + std::to_string(i) + "\": [\"{{u}}/f" + std::to_string(i % 4) +
            ".nc\", " + std::to_string(i) + ", 8]";
  }
  const std::string json = R"({"version": 1, "templates": {"u": "s3://b/dir"}, "refs": {)" + refs +
                           R"(}, "gen": [{"key": "g/{{i}}", "url": "{{u}}/gen.nc", "offset": "{{i * 8}}", )"
                           R"("length": 8, "dimensions": {"i": {"stop": 5}}}]})";
  CHECK(same_both_ways(json) == 2);
  check_range(loaded(RefStore::parse(json, options_for(true))), "a/2999", "s3://b/dir/f3.nc", 2999, 8);
}

TEST_CASE("two threads: a split guessed inside a nested value is found out and one thread goes on") {
  // The middle of the document is one inline JSON object whose members look like entries.
  std::string nested = "{";
  for (int i = 0; i < 5000; ++i) nested += (i ? ", " : "") + std::string("\"m") + std::to_string(i) + "\": 1";
  nested += "}";
  const std::string json = R"({"a/0": ["s3://b/x.nc", 0, 1], "meta": )" + nested + R"(, "a/1": ["s3://b/x.nc", 1, 1]})";
  CHECK(same_both_ways(json) == 1);
}

TEST_CASE("two threads: errors are those one thread reports, the first in the document winning") {
  const std::string good = varied_set(6, 300);
  const std::string body = good.substr(0, good.size() - 1);
  // Syntax, in the second half.
  CHECK_THAT(error_both_ways(body + R"(, "late/0": ["u", -1, 2]})"),
             Catch::Contains("key \"late/0\": offset -1 must be a non-negative integer"));
  CHECK_THAT(error_both_ways(body + R"(, "late/0": ["u", 1, 2] "late/1": 1})"), Catch::Contains("expected ','"));
  // Errors in both halves: the first half's.
  CHECK_THAT(error_both_ways(R"({"early": "base64:@@@", )" + body.substr(1) + R"(, "late": "base64:@@@"})"),
             Catch::Contains("key \"early\": invalid base64"));
  // Bad base64 and a key that is also a directory, across the halves.
  CHECK_THAT(error_both_ways(body + R"(, "late": "base64:@@@"})"), Catch::Contains("key \"late\": invalid base64"));
  CHECK_THAT(error_both_ways(R"({"group0": "file", )" + body.substr(1) + "}"),
             Catch::Contains("both a file and a directory"));
  // A null URL with no default target: the first such key is named.
  LoadOptions no_default = options_for(false);
  no_default.default_target.reset();
  CHECK_THAT(error_both_ways(plain_refs(3000) + R"(, "late/n": [null, 1, 2]})", no_default),
             Catch::Contains("key \"late/n\""));
  // More keys than allowed, the limit passed in the second half.
  LoadOptions few_keys = options_for(false);
  few_keys.max_keys = 2000;
  CHECK_THAT(error_both_ways(plain_refs(3000) + "}", few_keys), Catch::Contains("more than 2000 keys"));
  // ... also when the second half fails further on: the limit is passed first.
  CHECK_THAT(error_both_ways(plain_refs(3000) + R"(, "bad": ["u", -1, 1]})", few_keys),
             Catch::Contains("more than 2000 keys"));
}

TEST_CASE("two threads: a version-0 set with a \"version\" key in its second half is read by position") {
  const std::string good = varied_set(6, 300);
  const std::string json = good.substr(0, good.size() - 1) + R"(, "version": 2})";
  CHECK_THAT(error_both_ways(json), Catch::Contains("unsupported reference spec version 2"));
}

TEST_CASE("two threads: a mapped file is read the same, both threads giving their pages back") {
  const std::string path = "kerchunkfs-unit-two-threads.json";
  {
    std::ofstream out(path);
    out << varied_set(40, 6000);
  }
  const RefStore one = loaded(RefStore::load_file(path, options_for(false)));
  const RefStore two = loaded(RefStore::load_file(path, options_for(true)));
  std::remove(path.c_str());
  CHECK(two.read_by_threads() == 2);
  CHECK(store_difference(one, two).empty());
}
