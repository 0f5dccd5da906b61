// CF unpacking and dtype conversion (codec.h's ElementConverter), step for step as xarray's
// CFMaskCoder and CFScaleOffsetCoder compute it, so that values equal theirs bit for bit.
#include <simdjson.h>

#include "codec/codec.h"
#include "codec/numeric.h"

namespace kerchunkfs::codec {
namespace {

using common::Error;
using common::Result;

Result<Numeric> numeric_json(std::string_view dtype_json) {
  simdjson::dom::parser parser;
  std::string_view text;
  if (parser.parse(simdjson::padded_string(dtype_json)).get(text)) return Error{"dtype is not a JSON string"};
  return numeric(text);
}

Numeric float_type(std::size_t size) {
  auto type = numeric(size == 4 ? "<f4" : "<f8");
  return *type;
}

// xarray's dtypes.maybe_promote: what a masked variable becomes.
Numeric masked_type(const Numeric& stored) {
  if (stored.kind == 'f') return stored;
  return float_type(stored.size <= 2 ? 4 : 8);
}

// xarray's _choose_float_dtype.
Numeric scaled_type(const Numeric& type, bool has_offset) {
  if (type.kind == 'f' && type.size <= 4) return float_type(4);
  if (type.kind != 'f' && type.size <= 2 && !has_offset) return float_type(4);
  return float_type(8);
}

std::string dtype_json(const Numeric& type) {
  return "\"<" + std::string(1, type.kind) + std::to_string(type.size) + "\"";
}

// A number, or each number of a list, into `out`.
bool numbers(simdjson::dom::element value, std::vector<double>& out) {
  simdjson::dom::array list;
  if (!value.get(list)) {
    for (const auto item : list) {
      if (!numbers(item, out)) return false;
    }
    return true;
  }
  double number = 0;
  if (value.get(number)) return false;
  out.push_back(number);
  return true;
}

}  // namespace

Result<Packing> Packing::of_attributes(std::string_view zattrs_json, std::string_view fill_value_json) {
  simdjson::dom::parser parser;
  simdjson::dom::object attributes;
  if (parser.parse(simdjson::padded_string(zattrs_json)).get(attributes)) return Error{".zattrs is not a JSON object"};
  Packing packing;
  simdjson::dom::parser fill_parser;
  simdjson::dom::element fill;
  if (!fill_parser.parse(simdjson::padded_string(fill_value_json)).get(fill)) {
    std::vector<double> found;
    if (numbers(fill, found)) {
      for (const double value : found) {
        if (!std::isnan(value)) packing.fill_values.push_back(value);
      }
    }
  }
  for (const char* name : {"_FillValue", "missing_value", "scale_factor", "add_offset"}) {
    simdjson::dom::element value;
    if (attributes[name].get(value)) continue;
    std::vector<double> found;
    if (!numbers(value, found) || found.empty()) return Error{std::string("attribute ") + name + " is not a number"};
    if (name[0] == '_' || name[0] == 'm') {
      for (const double fill : found) {
        if (!std::isnan(fill)) packing.fill_values.push_back(fill);
      }
    } else {
      (name[0] == 's' ? packing.scale_factor : packing.add_offset) = found.front();
    }
  }
  return packing;
}

Result<std::string> common_dtype(std::span<const std::string> dtype_jsons) {
  std::size_t float_size = 0, signed_size = 0, unsigned_size = 0;
  for (const std::string& dtype : dtype_jsons) {
    auto type = numeric_json(dtype);
    if (!type) return type.error();
    std::size_t& widest = type->kind == 'f' ? float_size : type->kind == 'i' ? signed_size : unsigned_size;
    widest = std::max(widest, type->size);
  }
  // numpy: an unsigned integer with a signed one needs the next wider signed type.
  std::size_t integer_size = std::max(signed_size, unsigned_size);
  const bool is_signed = signed_size != 0;
  if (is_signed && unsigned_size >= signed_size) integer_size = unsigned_size * 2;
  if (float_size != 0 || integer_size > 8) {
    // Integers up to 16 bits fit a float32 exactly; wider ones need a float64.
    const std::size_t size = std::max<std::size_t>(float_size, integer_size <= 2 ? 4 : 8);
    return dtype_json(float_type(size));
  }
  return "\"<" + std::string(1, is_signed ? 'i' : 'u') + std::to_string(integer_size) + "\"";
}

Result<std::string> fill_element(std::string_view dtype_json, std::string_view fill_json) {
  auto size = dtype_size(dtype_json);
  if (!size) return size.error();
  std::string out(*size, '\0');
  auto type = numeric_json(dtype_json);
  if (!type || fill_json == "null") return out;
  simdjson::dom::parser parser;
  simdjson::dom::element fill;
  if (parser.parse(simdjson::padded_string(fill_json)).get(fill)) return Error{"fill value is not JSON"};
  double value = 0;
  std::string_view text;
  std::int64_t whole = 0;
  std::uint64_t positive = 0;
  if (!fill.get(text)) {
    if (text == "NaN")
      value = std::numeric_limits<double>::quiet_NaN();
    else if (text == "Infinity")
      value = std::numeric_limits<double>::infinity();
    else if (text == "-Infinity")
      value = -std::numeric_limits<double>::infinity();
    else
      return Error{"fill value " + std::string(fill_json) + " is not a number"};
  } else if (type->kind == 'i' && !fill.get(whole)) {
    with_type(*type, [&](auto t) { store<decltype(t)>(out.data(), static_cast<decltype(t)>(whole), type->swapped); });
    return out;
  } else if (type->kind == 'u' && !fill.get(positive)) {
    with_type(*type,
              [&](auto t) { store<decltype(t)>(out.data(), static_cast<decltype(t)>(positive), type->swapped); });
    return out;
  } else if (fill.get(value)) {
    return Error{"fill value " + std::string(fill_json) + " is not a number"};
  }
  with_type(*type, [&](auto t) { store<decltype(t)>(out.data(), cast_as<decltype(t)>(value), type->swapped); });
  return out;
}

struct ElementConverter::Types {
  Numeric from, to;
  bool masked = false;
  std::size_t masked_size = 0;  // the float width after masking (0: the stored type kept)
  std::size_t scaled_size = 0;  // the float width scaling computes in (0: no scaling)
};

Result<std::string> ElementConverter::unpacked_dtype(std::string_view dtype, const Packing& packing) {
  auto stored = numeric_json(dtype);
  if (!stored) return stored.error();
  Numeric type = *stored;
  if (!packing.fill_values.empty()) type = masked_type(type);
  if (packing.scale_factor || packing.add_offset) type = scaled_type(type, packing.add_offset.has_value());
  if (packing.empty()) return std::string(dtype);
  return dtype_json(type);
}

Result<ElementConverter> ElementConverter::make(std::string_view from, std::string_view to, const Packing& packing) {
  auto from_type = numeric_json(from);
  if (!from_type) return from_type.error();
  auto to_type = numeric_json(to);
  if (!to_type) return to_type.error();
  auto types = std::make_shared<Types>();
  types->from = *from_type;
  types->to = *to_type;
  Numeric step = types->from;
  if (!packing.fill_values.empty()) {
    types->masked = true;
    step = masked_type(step);
    types->masked_size = step.kind == 'f' ? step.size : 0;
  }
  if (packing.scale_factor || packing.add_offset) {
    types->scaled_size = scaled_type(step, packing.add_offset.has_value()).size;
  }
  if (types->masked && types->to.kind != 'f') return Error{"masked values need a float dtype, not " + types->to.text};
  ElementConverter converter;
  converter.types_ = std::move(types);
  converter.packing_ = packing;
  return converter;
}

std::size_t ElementConverter::from_size() const { return types_->from.size; }
std::size_t ElementConverter::to_size() const { return types_->to.size; }

void ElementConverter::convert(const char* in, char* out, std::size_t count) const {
  const Types& t = *types_;
  with_type(t.from, [&](auto from) {
    with_type(t.to, [&](auto to) {
      using From = decltype(from);
      using To = decltype(to);
      // Scaling in the float width xarray computes in: the factors cast to it first.
      const auto scale = [&](auto value) {
        using C = decltype(value);
        if (packing_.scale_factor) value = value * static_cast<C>(*packing_.scale_factor);
        if (packing_.add_offset) value = value + static_cast<C>(*packing_.add_offset);
        return value;
      };
      for (std::size_t i = 0; i < count; ++i) {
        const From raw = load<From>(in + i * sizeof(From), t.from.swapped);
        To result{};
        if (t.masked &&
            std::ranges::any_of(packing_.fill_values, [&](double fill) { return static_cast<double>(raw) == fill; })) {
          if constexpr (std::is_floating_point_v<To>) result = std::numeric_limits<To>::quiet_NaN();
        } else if (t.scaled_size == 4) {
          result = cast_as<To>(
              scale(t.masked_size == 8 ? static_cast<float>(static_cast<double>(raw)) : static_cast<float>(raw)));
        } else if (t.scaled_size == 8) {
          result = cast_as<To>(
              scale(t.masked_size == 4 ? static_cast<double>(static_cast<float>(raw)) : static_cast<double>(raw)));
        } else if (t.masked_size == 4) {
          result = cast_as<To>(static_cast<float>(raw));
        } else if (t.masked_size == 8) {
          result = cast_as<To>(static_cast<double>(raw));
        } else {
          result = cast_as<To>(raw);
        }
        store<To>(out + i * sizeof(To), result, t.to.swapped);
      }
    });
  });
}

}  // namespace kerchunkfs::codec
