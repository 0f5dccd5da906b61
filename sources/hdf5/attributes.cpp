#include "sources/hdf5/attributes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

#include "refstore/writer.h"
#include "sources/hdf5/hdf5_handle.h"
#include "sources/hdf5/types.h"

namespace kerchunkfs::sources {
namespace {

using refstore::json_quote;

// HDF5 and netCDF bookkeeping that is not user metadata.
const std::set<std::string> kHiddenAttributes = {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS",
                                                 "NAME",           "_Netcdf4Dimid",  "_Netcdf4Coordinates",
                                                 "_NCProperties",  "_FillValue",     "_nc3_strict"};

std::vector<std::string> integer_items(hid_t attribute, hid_t type, hssize_t count) {
  std::vector<std::string> items;
  if (H5Tget_sign(type) == H5T_SGN_NONE) {
    std::vector<unsigned long long> values(count);
    if (H5Aread(attribute, H5T_NATIVE_ULLONG, values.data()) < 0) return {};
    for (const auto value : values) items.push_back(std::to_string(value));
  } else {
    std::vector<long long> values(count);
    if (H5Aread(attribute, H5T_NATIVE_LLONG, values.data()) < 0) return {};
    for (const auto value : values) items.push_back(std::to_string(value));
  }
  return items;
}

std::vector<std::string> float_items(hid_t attribute, hid_t type, hssize_t count) {
  std::vector<double> values(count);
  if (H5Aread(attribute, H5T_NATIVE_DOUBLE, values.data()) < 0) return {};
  // A float32 attribute prints as the shortest text that reads back as that float32.
  const bool single = H5Tget_size(type) == 4;
  std::vector<std::string> items;
  for (const double value : values) {
    if (single && std::isfinite(value)) {
      char text[32];
      std::snprintf(text, sizeof text, "%.9g", value);
      items.emplace_back(text);
    } else {
      items.push_back(json_double(value, false));
    }
  }
  return items;
}

std::vector<std::string> string_items(hid_t attribute, hid_t type, hid_t space, hssize_t count) {
  std::vector<std::string> items;
  if (H5Tis_variable_str(type) > 0) {
    const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type));
    std::vector<char*> values(count);
    if (H5Aread(attribute, memory.get(), values.data()) < 0) return {};
    for (char* value : values) items.push_back(json_quote(value ? value : ""));
    H5Dvlen_reclaim(memory.get(), space, H5P_DEFAULT, values.data());
    return items;
  }
  const std::size_t size = H5Tget_size(type);
  std::string buffer(size * count, '\0');
  if (H5Aread(attribute, type, buffer.data()) < 0) return {};
  for (hssize_t i = 0; i < count; ++i) {
    std::string value = buffer.substr(i * size, size);
    value.erase(value.find_last_not_of('\0') + 1);
    items.push_back(json_quote(value));
  }
  return items;
}

// True when a type holds a variable-length part anywhere (its bytes then hold pointers).
bool has_variable_length(hid_t type) {
  return H5Tdetect_class(type, H5T_VLEN) > 0 ||
         (H5Tdetect_class(type, H5T_STRING) > 0 && H5Tis_variable_str(type) > 0) || [&] {
           if (H5Tget_class(type) != H5T_COMPOUND && H5Tget_class(type) != H5T_ARRAY) return false;
           const int count = H5Tget_class(type) == H5T_COMPOUND ? H5Tget_nmembers(type) : 1;
           for (int m = 0; m < count; ++m) {
             const Handle member(H5Tget_class(type) == H5T_COMPOUND ? H5Tget_member_type(type, static_cast<unsigned>(m))
                                                                    : H5Tget_super(type),
                                 H5Tclose);
             if (has_variable_length(member.get())) return true;
           }
           return false;
         }();
}

// One fixed-size value (in `type`'s own bytes) as JSON: compounds as objects, arrays as lists.
std::optional<std::string> value_json(hid_t type, const unsigned char* bytes) {
  const std::size_t size = H5Tget_size(type);
  const auto convert = [&](hid_t to, auto result) {
    std::vector<unsigned char> buffer(std::max<std::size_t>(size, sizeof result));
    std::memcpy(buffer.data(), bytes, size);
    H5Tconvert(type, to, 1, buffer.data(), nullptr, H5P_DEFAULT);
    std::memcpy(&result, buffer.data(), sizeof result);
    return result;
  };
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return H5Tget_sign(type) == H5T_SGN_NONE ? std::to_string(convert(H5T_NATIVE_ULLONG, 0ULL))
                                               : std::to_string(convert(H5T_NATIVE_LLONG, 0LL));
    case H5T_FLOAT: {
      const double value = convert(H5T_NATIVE_DOUBLE, 0.0);
      if (size != 4 || !std::isfinite(value)) return json_double(value, false);
      char text[32];
      std::snprintf(text, sizeof text, "%.9g", value);
      return text;
    }
    case H5T_STRING: {
      std::string text(reinterpret_cast<const char*>(bytes), size);
      text.erase(text.find_last_not_of('\0') + 1);
      return json_quote(text);
    }
    case H5T_ENUM: {
      if (is_bool_enum(type)) return bytes[0] ? "true" : "false";
      const Handle base(H5Tget_super(type), H5Tclose);
      return value_json(base.get(), bytes);
    }
    case H5T_COMPOUND: {
      std::string out = "{";
      for (unsigned m = 0; m < static_cast<unsigned>(std::max(H5Tget_nmembers(type), 0)); ++m) {
        const Handle member(H5Tget_member_type(type, m), H5Tclose);
        const auto value = value_json(member.get(), bytes + H5Tget_member_offset(type, m));
        if (!value) return std::nullopt;
        out += (out.size() > 1 ? ", " : "") + json_quote(member_name(type, m)) + ": " + *value;
      }
      return out + "}";
    }
    case H5T_ARRAY: {
      const Handle base(H5Tget_super(type), H5Tclose);
      const std::size_t item = H5Tget_size(base.get());
      std::string out = "[";
      for (std::size_t at = 0; item > 0 && at < size; at += item) {
        const auto value = value_json(base.get(), bytes + at);
        if (!value) return std::nullopt;
        out += (out.size() > 1 ? ", " : "") + *value;
      }
      return out + "]";
    }
    default:
      return std::nullopt;
  }
}

std::vector<std::string> structured_items(hid_t attribute, hid_t type, hssize_t count) {
  if (has_variable_length(type)) return {};
  const std::size_t size = H5Tget_size(type);
  std::vector<unsigned char> buffer(size * count);
  if (H5Aread(attribute, type, buffer.data()) < 0) return {};
  std::vector<std::string> items;
  for (hssize_t i = 0; i < count; ++i) {
    auto value = value_json(type, buffer.data() + i * size);
    if (!value) return {};
    items.push_back(std::move(*value));
  }
  return items;
}

// An attribute's value as JSON, or nothing when its type is not one JSON can carry.
std::optional<std::string> attribute_json(hid_t attribute) {
  const Handle type(H5Aget_type(attribute), H5Tclose);
  const Handle space(H5Aget_space(attribute), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || H5Sget_simple_extent_type(space.get()) == H5S_NULL) return std::nullopt;
  if (count == 0) return "[]";
  std::vector<std::string> items;
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER:
      items = integer_items(attribute, type.get(), count);
      break;
    case H5T_FLOAT:
      items = float_items(attribute, type.get(), count);
      break;
    case H5T_STRING:
      items = string_items(attribute, type.get(), space.get(), count);
      break;
    case H5T_ENUM: {
      // Booleans as JSON booleans (numpy's bool attributes are such enums); other enums as their numbers.
      const Handle base(H5Tget_super(type.get()), H5Tclose);
      std::vector<unsigned char> raw(H5Tget_size(type.get()) * count);
      if (H5Aread(attribute, type.get(), raw.data()) < 0) return std::nullopt;
      if (is_bool_enum(type.get())) {
        for (const unsigned char value : raw) items.emplace_back(value ? "true" : "false");
        break;
      }
      std::vector<long long> values(count);
      std::vector<unsigned char> converted(std::max(raw.size(), values.size() * sizeof(long long)));
      std::copy(raw.begin(), raw.end(), converted.begin());
      if (H5Tconvert(base.get(), H5T_NATIVE_LLONG, count, converted.data(), nullptr, H5P_DEFAULT) < 0)
        return std::nullopt;
      std::memcpy(values.data(), converted.data(), values.size() * sizeof(long long));
      for (const long long value : values) items.push_back(std::to_string(value));
      break;
    }
    case H5T_COMPOUND:
    case H5T_ARRAY:
      items = structured_items(attribute, type.get(), count);
      break;
    default:
      return std::nullopt;
  }
  if (items.empty()) return std::nullopt;
  // One value is a scalar, as netCDF and xarray show it (netCDF-C stores every attribute as an array).
  if (items.size() == 1) return items[0];
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

herr_t visit_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto* out = static_cast<std::map<std::string, std::string>*>(data);
  if (kHiddenAttributes.contains(name)) return 0;
  const Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) return 0;
  if (auto value = attribute_json(attribute.get())) (*out)[name] = std::move(*value);
  return 0;
}

}  // namespace

std::map<std::string, std::string> user_attributes(hid_t object) {
  std::map<std::string, std::string> attributes;
  hsize_t index = 0;
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, visit_attribute, &attributes);
  return attributes;
}

std::string string_attribute(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return "";
  const Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  const auto value = attribute_json(attribute.get());
  if (!value || value->size() < 2 || (*value)[0] != '"') return "";
  return value->substr(1, value->size() - 2);
}

}  // namespace kerchunkfs::sources
