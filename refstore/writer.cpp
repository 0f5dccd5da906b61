#include "refstore/writer.h"

#include <cstdio>

namespace kerchunkfs::refstore {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]),
               c = static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[a >> 2];
    out += kAlphabet[((a & 3) << 4) | (b >> 4)];
    out += kAlphabet[((b & 15) << 2) | (c >> 6)];
    out += kAlphabet[c & 63];
  }
  if (i < bytes.size()) {
    const auto a = static_cast<unsigned char>(bytes[i]);
    const auto b = i + 1 < bytes.size() ? static_cast<unsigned char>(bytes[i + 1]) : 0;
    out += kAlphabet[a >> 2];
    out += kAlphabet[((a & 3) << 4) | (b >> 4)];
    out += i + 1 < bytes.size() ? kAlphabet[(b & 15) << 2] : '=';
    out += '=';
  }
  return out;
}

// Whether bytes can be written as a JSON string and read back as the same bytes: valid UTF-8
// without NUL, and not starting with the "base64:" marker.
bool is_text(std::string_view bytes) {
  if (bytes.starts_with("base64:")) return false;
  for (std::size_t i = 0; i < bytes.size();) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    std::size_t continuation = 0;
    if (lead == 0) {
      return false;
    } else if (lead >= 0x80) {
      if ((lead >> 5) == 0x6) {
        continuation = 1;
      } else if ((lead >> 4) == 0xe) {
        continuation = 2;
      } else if ((lead >> 3) == 0x1e) {
        continuation = 3;
      } else {
        return false;
      }
    }
    for (std::size_t k = 1; k <= continuation; ++k) {
      if (i + k >= bytes.size() || (static_cast<unsigned char>(bytes[i + k]) >> 6) != 0x2) return false;
    }
    i += continuation + 1;
  }
  return true;
}

}  // namespace

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
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
      out << (is_text(bytes) ? json_quote(bytes) : json_quote("base64:" + base64(bytes)));
    }
  }
  out << (version == 1 ? "\n}}\n" : "\n}\n");
}

}  // namespace kerchunkfs::refstore
