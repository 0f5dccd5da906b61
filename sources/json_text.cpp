#include "sources/json_text.h"

#include <cmath>
#include <cstdio>

#include "refstore/writer.h"

namespace kerchunkfs::sources {

using refstore::json_quote;

std::string json_object(const std::map<std::string, std::string>& members) {
  std::string out = "{";
  for (const auto& [name, value] : members) out += (out.size() > 1 ? ", " : "") + json_quote(name) + ": " + value;
  return out + "}";
}

std::string json_names(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + json_quote(names[i]);
  return out + "]";
}

std::string json_double(double value, bool quote_special) {
  if (std::isnan(value)) return quote_special ? "\"NaN\"" : "NaN";
  if (std::isinf(value)) {
    const char* text = value > 0 ? "Infinity" : "-Infinity";
    return quote_special ? "\"" + std::string(text) + "\"" : text;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

}  // namespace kerchunkfs::sources
