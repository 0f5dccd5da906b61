#include "refstore/writer.h"

#include <cstdint>
#include <cstdio>

#include "refstore/base64.h"

namespace kerchunkfs::refstore {
namespace {

// The length of the valid UTF-8 sequence that starts `text`, or 0 when it does not start with
// one (a stray continuation byte, a truncated or overlong sequence, a surrogate, above U+10FFFF).
std::size_t utf8_sequence(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  if (length == 3 && ((lead == 0xE0 && byte(1) < 0xA0) || (lead == 0xED && byte(1) >= 0xA0))) return 0;
  if (length == 4 && ((lead == 0xF0 && byte(1) < 0x90) || (lead == 0xF4 && byte(1) >= 0x90))) return 0;
  return length;
}

// Whether bytes can be written as a JSON string and read back as the same bytes: valid UTF-8
// without NUL, and not starting with the "base64:" marker.
bool is_text(std::string_view bytes) {
  if (bytes.starts_with("base64:")) return false;
  while (!bytes.empty()) {
    const std::size_t length = utf8_sequence(bytes);
    if (length == 0 || bytes.front() == '\0') return false;
    bytes.remove_prefix(length);
  }
  return true;
}

}  // namespace

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  while (!text.empty()) {
    const char c = text.front();
    const std::size_t length = utf8_sequence(text);
    if (length == 0) {
      out += "\\ufffd";  // JSON is UTF-8: a byte that is not becomes the replacement character
      text.remove_prefix(1);
      continue;
    }
    if (length > 1) {
      // Escaped, so that the JSON is ASCII: zarr-python 2 reads .zattrs and .zarray as ASCII,
      // and Python's json module writes them so.
      std::uint32_t point = static_cast<unsigned char>(c) & (0xFF >> (length + 1));
      for (std::size_t i = 1; i < length; ++i) point = (point << 6) | (static_cast<unsigned char>(text[i]) & 0x3F);
      const auto escape = [&out](std::uint32_t unit) {
        char escaped[12];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(unit));
        out += escaped;
      };
      if (point >= 0x10000) {
        escape(0xD800 + ((point - 0x10000) >> 10));
        escape(0xDC00 + ((point - 0x10000) & 0x3FF));
      } else {
        escape(point);
      }
      text.remove_prefix(length);
      continue;
    }
    text.remove_prefix(1);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void write_references(std::ostream& out, const ReferenceMap& references, int version) {
  out << (version == 1 ? "{\"version\": 1, \"refs\": {" : "{");
  bool first = true;
  for (const auto& [key, value] : references) {
    out << (first ? "\n" : ",\n") << json_quote(key) << ": ";
    first = false;
    if (const auto* range = std::get_if<RangeReference>(&value)) {
      out << "[" << json_quote(range->url) << ", " << range->offset << ", " << range->length << "]";
    } else {
      const std::string& bytes = std::get<std::string>(value);
      out << (is_text(bytes) ? json_quote(bytes) : json_quote("base64:" + base64_encode(bytes)));
    }
  }
  out << (version == 1 ? "\n}}\n" : "\n}\n");
}

}  // namespace kerchunkfs::refstore
