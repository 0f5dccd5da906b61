#include <catch2/catch.hpp>

#include "refstore/base64.h"

using kerchunkfs::refstore::base64_decode_append;

namespace {
std::string decode(std::string_view text) {
  std::string out;
  REQUIRE(base64_decode_append(text, out));
  return out;
}
bool rejects(std::string_view text) {
  std::string out = "kept";
  const bool ok = base64_decode_append(text, out);
  CHECK(out == "kept");
  return !ok;
}
}  // namespace

TEST_CASE("base64 decodes the RFC 4648 test vectors, padded and unpadded") {
  CHECK(decode("") == "");
  CHECK(decode("Zg==") == "f");
  CHECK(decode("Zm8=") == "fo");
  CHECK(decode("Zm9v") == "foo");
  CHECK(decode("Zm9vYg==") == "foob");
  CHECK(decode("Zm9vYmE=") == "fooba");
  CHECK(decode("Zm9vYmFy") == "foobar");
  CHECK(decode("Zg") == "f");
  CHECK(decode("Zm9vYmE") == "fooba");
}

TEST_CASE("base64 decodes every byte value") {
  // base64 of bytes 0..255, as Python's base64.b64encode(bytes(range(256))) prints it.
  const std::string encoded =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9Q"
      "UVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6Ch"
      "oqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy"
      "8/T19vf4+fr7/P3+/w==";
  const std::string bytes = decode(encoded);
  REQUIRE(bytes.size() == 256);
  for (int i = 0; i < 256; ++i) CHECK(static_cast<unsigned char>(bytes[i]) == i);
}

TEST_CASE("base64 rejects bad input and leaves the output untouched") {
  CHECK(rejects("Z"));      // a lone sextet carries no byte
  CHECK(rejects("Zm9v!"));  // outside the alphabet
  CHECK(rejects("Zm 9v"));  // whitespace is not allowed
  CHECK(
      rejects("Zg=="
              "="));         // three padding characters
  CHECK(rejects("Zm9=v"));   // padding in the middle
  CHECK(rejects("Zm9vY="));  // padding that does not complete a quantum
}
