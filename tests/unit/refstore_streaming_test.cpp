// The one-pass parser (JsonCursor under Parser): JSON's own rules (RFC 8259) for what it accepts,
// version-1 fields in any order, and a mapped file's pages given back as the parse moves on.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "tests/unit/refstore_test_util.h"

using namespace kerchunkfs::refstore;
using namespace kerchunkfs::refstore::testing;
using Catch::Contains;

namespace {

std::string error_of(std::string_view json) {
  const auto store = RefStore::parse(json, LoadOptions{});
  if (store) FAIL("no error for " << json);
  return store.error().message;
}

}  // namespace

TEST_CASE("strings: every escape of RFC 8259, surrogate pairs as one code point, raw UTF-8 as it is") {
  const RefStore store = parse(
      R"({"k": "q\" s\\ f\/ b\b f\f n\n r\r t\t u\u0041\u00e9\u20ac\ud83d\ude00", "raw": "é€😀", "\u006b2": "x"})");
  CHECK(inline_at(store, "k") == "q\" s\\ f/ b\b f\f n\n r\r t\t uA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(inline_at(store, "raw") == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(inline_at(store, "k2") == "x");
}

TEST_CASE("strings JSON forbids are refused with their position") {
  CHECK_THAT(error_of("{\"k\": \"a\x01b\"}"),
             Contains("key \"k\": invalid JSON: control character") && Contains("line 1, column 9"));
  CHECK_THAT(error_of(R"({"k": "a\qb"})"), Contains("invalid escape"));
  CHECK_THAT(error_of(R"({"k": "\u12G4"})"), Contains("invalid \\u escape"));
  CHECK_THAT(error_of(R"({"k": "\ud800"})"), Contains("without its low surrogate"));
  CHECK_THAT(error_of(R"({"k": "\ud800\u0041"})"), Contains("without its low surrogate"));
  CHECK_THAT(error_of(R"({"k": "\udc00"})"), Contains("lone low surrogate"));
  CHECK_THAT(error_of("{\"k\": \"unterminated"), Contains("unterminated string"));
  // Invalid UTF-8: a stray continuation, an overlong form, a surrogate, past U+10FFFF, truncated.
  for (const char* bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    INFO(bad);
    CHECK_THAT(error_of(std::string("{\"k\": \"a") + bad + "\"}"), Contains("invalid UTF-8"));
    CHECK_THAT(error_of(std::string("{\"a") + bad + "\": \"v\"}"), Contains("invalid UTF-8"));
  }
}

TEST_CASE("numbers, literals and structure follow JSON's grammar") {
  const RefStore store = parse(R"({"a": -0.5e+3, "b": 0, "c": true, "d": false, "e": null, "f": [], "g": {}})");
  CHECK(inline_at(store, "a") == "-0.5e+3");
  CHECK(inline_at(store, "c") == "true");
  CHECK(inline_at(store, "f") == "[]");
  for (const char* bad : {R"({"a": 01})", R"({"a": 1.})", R"({"a": .5})", R"({"a": 1e})", R"({"a": +1})",
                          R"({"a": tru})", R"({"a": nulls})", R"({"a" 1})", R"({"a": 1,})", R"({"a": 1 "b": 2})",
                          R"({"a": 1}})", "{\"a\": 1", R"({a: 1})", "", "[]"}) {
    INFO(bad);
    CHECK_THAT(error_of(bad), Contains("invalid JSON"));
  }
}

TEST_CASE("reference offsets and lengths: integers only, up to 2^48 - 2") {
  const RefStore store = parse(R"({"a": ["u", 0, 281474976710654]})");
  check_range(store, "a", "/base/u", 0, 281474976710654);
  CHECK_THAT(error_of(R"({"a": ["u", 0, 281474976710655]})"), Contains("length 281474976710655 is too large"));
  CHECK_THAT(error_of(R"({"a": ["u", 123456789012345678901234, 1]})"), Contains("is too large"));
  for (const char* bad : {"1.0", "1e3", "-1", "\"1\"", "null"}) {
    INFO(bad);
    CHECK_THAT(error_of(std::string(R"({"a": ["u", )") + bad + ", 1]}"),
               Contains("offset " + std::string(bad) + " must be a non-negative integer"));
  }
  CHECK_THAT(error_of(R"({"a": ["u", 1]})"), Contains("not 2 elements"));
  CHECK_THAT(error_of(R"({"a": ["u", 1, 2, 3]})"), Contains("not 4+ elements"));
}

TEST_CASE("version-1 fields in any order read as in kerchunk's order") {
  const std::string templates = R"("templates": {"u": "s3://b/f.nc"})";
  const std::string refs = R"("refs": {"v/0": ["{{u}}", 0, 8], "g/0": "replaced by gen"})";
  const std::string gen =
      R"("gen": [{"key": "g/{{i}}", "url": "{{u}}", "offset": "{{i * 8}}", "length": "8", "dimensions": {"i": {"stop": 2}}}])";
  const std::string version = R"("version": 1)";
  const std::vector<std::vector<std::string>> orders = {{version, templates, refs, gen},
                                                        {refs, templates, version, gen},
                                                        {gen, refs, version, templates},
                                                        {version, gen, refs, templates},
                                                        {templates, gen, refs, version}};
  for (const auto& order : orders) {
    std::string json = "{";
    for (const auto& field : order) json += (json.size() > 1 ? ", " : "") + field;
    json += ", \"ignored\": [1]}";
    INFO(json);
    const RefStore store = parse(json);
    check_range(store, "v/0", "s3://b/f.nc", 0, 8);
    check_range(store, "g/0", "s3://b/f.nc", 0, 8);  // gen applies after refs, wherever it stands
    check_range(store, "g/1", "s3://b/f.nc", 8, 8);
  }
  CHECK_THAT(error_of(R"({"version": 1, "refs": {}, "refs": {}})"), Contains("\"refs\" is given twice"));
  CHECK_THAT(error_of(R"({"refs": {}, "version": 1, "version": 1})"), Contains("\"version\" is given twice"));
  CHECK_THAT(error_of(R"({"version": 1, "ignored": [1,]})"), Contains("top-level field \"ignored\": invalid JSON"));
  // Without "version", a key named like a version-1 field is a version-0 key.
  CHECK(inline_at(parse(R"({"refs": "x", "a": "y"})"), "refs") == "x");
}

TEST_CASE("a mapped reference file is given back as it is read: the peak holds little of it") {
  // ~125 MB of references to one long URL, which the store keeps once. Sampled while it loads,
  // the file's resident pages must stay far below its size.
  const std::string path = "kerchunkfs-unit-streaming.json";
  {
    std::ofstream out(path);
    out << "{";
    const std::string url = "s3://bucket/" + std::string(200, 'x') + ".nc";
    for (int i = 0; i < 500000; ++i)
      out << (i ? ", " : "") << "\"v/" << i << "\": [\"" << url << "\", " << i * 10 << ", 10]";
    out << "}";
  }
  const auto file_kib = static_cast<long>(std::ifstream(path, std::ios::ate).tellg()) / 1024;
  REQUIRE(file_kib > 110L * 1024);
  const auto resident_file_kib = [] {  // mapped file pages; sanitizers' shadow memory is not among them
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
    }
    return -1L;
  };
  const long before = resident_file_kib();
  std::atomic<long> peak{before};
  kerchunkfs::common::Result<RefStore> store = kerchunkfs::common::Error{"not loaded"};
  {
    const std::jthread sampler([&](const std::stop_token& stop) {
      while (!stop.stop_requested()) {
        peak = std::max(peak.load(), resident_file_kib());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    store = RefStore::load_file(path, LoadOptions{});
  }
  std::remove(path.c_str());
  REQUIRE(store);
  check_range(*store, "v/499999", "s3://bucket/" + std::string(200, 'x') + ".nc", 4999990, 10);
  CHECK(store->read_by_threads() == 2);  // both threads give their pages back
  const long peak_growth = peak - before;
  INFO("file " << file_kib << " KiB, resident file pages grew by " << peak_growth << " KiB at most");
  CHECK(peak_growth < file_kib / 2);
}
