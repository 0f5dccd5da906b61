// However a set's entries are read — by two threads, each half into a builder of its own, then
// joined, or through a read window of any size, whose end may cut a member — the store must be
// the one a single thread reading in place builds, node numbers included, and a failing set must
// fail with the message that reading gives.

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

namespace {

LoadOptions in_place() {
  LoadOptions options = options_for(false);
  options.read_window_bytes = 0;
  return options;
}

// `json` read through windows of many sizes (and by one and two threads) gives the store, or the
// error, that reading it in place gives.
void same_through_windows(const std::string& json) {
  const auto expected = RefStore::parse(json, in_place());
  for (const std::size_t window : {1, 2, 5, 9, 16, 33, 64, 100, 250, 1000, 4096, 1 << 20}) {
    for (const bool two_threads : {false, true}) {
      INFO("window " << window << (two_threads ? ", two threads" : ", one thread"));
      LoadOptions options = options_for(two_threads);
      options.read_window_bytes = window;
      const auto read = RefStore::parse(json, options);
      REQUIRE(error_message(read) == error_message(expected));
      if (expected) {
        INFO(store_difference(*expected, *read));
        CHECK(store_difference(*expected, *read).empty());
      }
    }
  }
}

}  // namespace

TEST_CASE("a read window of any size: the store read in place, members cut by its end read again") {
  same_through_windows(varied_set(6, 300));
  same_through_windows(plain_refs(2000) + "}");
  // Chunk keys in C order with compact separators, one URL after another, and inline values
  // longer than small windows.
  std::string grid = R"({"v/.zarray":{"chunks":[1,1]})";
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 30; ++j) {
      grid += ",\"v/" + std::to_string(i) + "." + std::to_string(j) + "\":[\"s3://b/f" + std::to_string(i / 7) +
              ".nc\"," + std::to_string(123456789012LL * i + j * 1000) + "," + std::to_string(1000 + j) + "]";
    }
    grid += ",\"w/" + std::to_string(i) + "\":\"base64:" + std::string(4 * (i + 1) * 9, 'A') + "\"";
  }
  same_through_windows(grid + "}");
  // Numbers as values: a window's end may cut one where what is left is a number too.
  std::string numbers = "{";
  for (int i = 0; i < 300; ++i) {
    numbers += (i ? ", " : "") + std::string("\"n") + std::to_string(i) + "\": " + std::to_string(7 + i * 1234567) +
               (i % 3 == 0 ? ".5" : "") + (i % 5 == 0 ? "e3" : "");
  }
  same_through_windows(numbers + "}");
  // Whitespace of every kind and length between the tokens.
  std::string spaced = "{\n";
  for (int i = 0; i < 200; ++i) {
    spaced += (i ? " ,\n\t" : "\t") + std::string(i % 37, ' ') + "\"s/" + std::to_string(i) + "\" :\r\n [ \"u\" ,  " +
              std::to_string(i) + " ,\n" + std::string(i % 11, ' ') + "5 ] ";
  }
  same_through_windows(spaced + "\n}\n");
  // A version-1 set, and a set whose middle is one nested value.
  std::string refs;
  for (int i = 0; i < 500; ++i) {
    refs += (i ? ", " : "") + std::string("\"a/") + std::to_string(i) + "\": [\"{{u}}/f" + std::to_string(i % 4) +
            ".nc\", " + std::to_string(i) + ", 8]";
  }
  same_through_windows(R"({"version": 1, "templates": {"u": "s3://b/dir"}, "refs": {)" + refs + "}}");
  std::string nested = "{";
  for (int i = 0; i < 500; ++i) nested += (i ? ", " : "") + std::string("\"m") + std::to_string(i) + "\": 1";
  same_through_windows(R"({"a/0": ["s3://b/x.nc", 0, 1], "meta": )" + nested + R"(}, "a/1": ["s3://b/x.nc", 1, 1]})");
}

TEST_CASE("a read window of any size: errors named as reading in place names them, line and column") {
  const std::string body = plain_refs(500);
  for (const std::string& tail :
       {std::string(R"(, "late/0": ["u", -1, 2]})"), std::string(R"(, "late/0": ["u", 1] "x": 1})"),
        std::string(R"(, "late/0": ["u", 99999999999999999999, 2]})"), std::string(", \"late/\xff\": 1}"),
        std::string(R"(, "late": "base64:@@@"})"), std::string(R"(, "v": "file"})"),
        std::string(R"(, "late/0": ["u", 1, 2)"), std::string(R"(, "late/0": ["u", 1, 2, 3]})"),
        std::string(R"(, "late/0": 12)"), std::string(R"(, "late/0": ["u", 1, 2], "late/1": {"a": tru}})")}) {
    INFO(tail);
    REQUIRE_FALSE(RefStore::parse(body + tail, in_place()));
    same_through_windows(body + tail);
  }
}

TEST_CASE("a read window: a file is read with pread, by both threads, and gives the store read in place") {
  const std::string path = "kerchunkfs-unit-read-window.json";
  {
    std::ofstream out(path);
    out << varied_set(40, 6000);
  }
  LoadOptions windowed = options_for(true);
  windowed.read_window_bytes = 4096;
  const RefStore expected = loaded(RefStore::load_file(path, in_place()));
  const RefStore read = loaded(RefStore::load_file(path, windowed));
  std::remove(path.c_str());
  CHECK(read.read_by_threads() == 2);
  CHECK(store_difference(expected, read).empty());
}
