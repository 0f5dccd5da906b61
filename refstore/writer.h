// Writing reference sets: deterministic JSON (keys sorted), spec version 0 or 1, readable by
// kerchunkfs, fsspec's ReferenceFileSystem and kerchunk.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <variant>

namespace kerchunkfs::refstore {

struct RangeReference {
  std::string url;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Inline bytes (written as text when they are UTF-8 JSON-safe, as "base64:..." otherwise) or a
// byte range of a target.
using ReferenceValue = std::variant<std::string, RangeReference>;
using ReferenceMap = std::map<std::string, ReferenceValue>;

void write_references(std::ostream& out, const ReferenceMap& references, int version);

// A JSON string literal for `text`, in ASCII (other characters escaped; bytes that are not UTF-8
// become U+FFFD).
std::string json_quote(std::string_view text);

}  // namespace kerchunkfs::refstore
