#include <catch2/catch.hpp>

#include <sstream>

#include "refstore/writer.h"

using kerchunkfs::refstore::json_quote;

TEST_CASE("json_quote escapes what JSON requires and writes other characters as ASCII escapes") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_quote("tab\there\n\x01") == "\"tab\\there\\n\\u0001\"");
  // As Python's json.dumps writes them (zarr-python 2 reads metadata as ASCII): a character
  // beyond U+FFFF as a surrogate pair.
  CHECK(json_quote("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\x8d") == "\"\\u00e9t\\u00e9 \\u20ac \\ud83c\\udf0d\"");
}

TEST_CASE("json_quote turns bytes that are not UTF-8 into U+FFFD, one per byte") {
  CHECK(json_quote("ok\xff\xfe") == "\"ok\\ufffd\\ufffd\"");
  CHECK(json_quote("\x80") == "\"\\ufffd\"");                                   // a stray continuation byte
  CHECK(json_quote("\xc3") == "\"\\ufffd\"");                                   // truncated at the end
  CHECK(json_quote("\xc3(") == "\"\\ufffd(\"");                                 // a lead byte without its continuation
  CHECK(json_quote("\xc0\xaf") == "\"\\ufffd\\ufffd\"");                        // overlong '/'
  CHECK(json_quote("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");             // a UTF-16 surrogate
  CHECK(json_quote("\xf4\x90\x80\x80") == "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // above U+10FFFF
}

TEST_CASE("write_references writes text values as strings and other bytes as base64") {
  kerchunkfs::refstore::ReferenceMap refs;
  refs["a/.zattrs"] = std::string("{\"x\": \"\xc3\xa9\"}");
  refs["a/0"] = std::string("\x00\xff", 2);
  refs["a/1"] = kerchunkfs::refstore::RangeReference{"s3://b/k.h5", 10, 20};
  std::ostringstream out;
  kerchunkfs::refstore::write_references(out, refs, 1);
  CHECK(out.str() ==
        "{\"version\": 1, \"refs\": {\n"
        "\"a/.zattrs\": \"{\\\"x\\\": \\\"\\u00e9\\\"}\",\n"
        "\"a/0\": \"base64:AP8=\",\n"
        "\"a/1\": [\"s3://b/k.h5\", 10, 20]\n"
        "}}\n");
}
