#include <simdjson.h>

#include <charconv>

#include "codec/codec.h"

namespace kerchunkfs::codec {
namespace {

using common::Error;
using common::Result;

// No element is larger: a dtype claiming more ("|S99999999999") is refused here rather than
// making whoever sizes a buffer from it fail.
constexpr std::size_t kMaxElementBytes = std::size_t{1} << 30;

// A numpy type string: "<f8", "|S10", "<U3", "<M8[ns]", "|V16", "|b1".
Result<std::size_t> simple_size(std::string_view text) {
  std::string_view rest = text;
  if (!rest.empty() && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) rest.remove_prefix(1);
  if (rest.size() < 2) return Error{"dtype \"" + std::string(text) + "\" has no fixed size"};
  const char kind = rest[0];
  rest.remove_prefix(1);
  if (const auto unit = rest.find('['); unit != std::string_view::npos) {
    if (kind != 'M' && kind != 'm') return Error{"dtype \"" + std::string(text) + "\" is not understood"};
    rest = rest.substr(0, unit);
  }
  std::size_t size = 0;
  const auto [end, problem] = std::from_chars(rest.data(), rest.data() + rest.size(), size);
  if (problem != std::errc{} || end != rest.data() + rest.size() || size == 0) {
    return Error{"dtype \"" + std::string(text) + "\" has no fixed size"};
  }
  if (size > kMaxElementBytes / 4) return Error{"dtype \"" + std::string(text) + "\": elements of more than 256 MiB"};
  switch (kind) {
    case 'U':
      return size * 4;  // UCS-4 characters
    case 'i':
    case 'u':
    case 'f':
    case 'c':
    case 'b':
    case 'S':
    case 'V':
    case 'M':
    case 'm':
      return size;
    default:
      return Error{"dtype \"" + std::string(text) + "\" has no fixed size"};
  }
}

Result<std::size_t> element_size(simdjson::dom::element dtype, unsigned depth) {
  if (depth > 16) return Error{"dtype nests too deeply"};
  std::string_view text;
  if (!dtype.get(text)) return simple_size(text);
  simdjson::dom::array fields;
  if (dtype.get(fields)) return Error{"dtype is neither a string nor a list of fields"};
  std::size_t total = 0;
  for (const auto field : fields) {
    simdjson::dom::array parts;
    if (field.get(parts) || parts.size() < 2) return Error{"a structured dtype's field is not [name, dtype(, shape)]"};
    auto size = element_size(parts.at(1).value_unsafe(), depth + 1);
    if (!size) return size;
    std::size_t count = 1;
    if (parts.size() > 2) {
      simdjson::dom::array shape;
      if (parts.at(2).get(shape)) return Error{"a structured dtype's field shape is not a list"};
      for (const auto extent : shape) {
        std::uint64_t n = 0;
        if (extent.get(n)) return Error{"a structured dtype's field shape is not a list of integers"};
        if (n != 0 && count > kMaxElementBytes / n) return Error{"a structured dtype's element is over 1 GiB"};
        count *= n;
      }
    }
    if (count != 0 && *size > (kMaxElementBytes - total) / count)
      return Error{"a structured dtype's element is over 1 GiB"};
    total += *size * count;
  }
  if (total == 0) return Error{"structured dtype without fields"};
  return total;
}

}  // namespace

Result<std::size_t> dtype_size(std::string_view dtype_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element dtype;
  if (parser.parse(simdjson::padded_string(dtype_json)).get(dtype)) return Error{"dtype is not JSON"};
  return element_size(dtype, 0);
}

}  // namespace kerchunkfs::codec
