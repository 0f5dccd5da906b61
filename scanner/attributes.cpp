#include "scanner/attributes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

#include "refstore/writer.h"
#include "scanner/hdf5_handle.h"
#include "scanner/types.h"

namespace kerchunkfs::scanner {
namespace {

using refstore::json_quote;

// HDF5 and netCDF bookkeeping that is not user metadata.
const std::set<std::string> kHiddenAttributes = {
    "DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates",
    "_NCProperties", "_FillValue", "_nc3_strict"};

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

// An attribute's value as JSON, or nothing when its type is not one JSON can carry.
std::optional<std::string> attribute_json(hid_t attribute) {
  const Handle type(H5Aget_type(attribute), H5Tclose);
  const Handle space(H5Aget_space(attribute), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || H5Sget_simple_extent_type(space.get()) == H5S_NULL) return std::nullopt;
  if (count == 0) return "[]";
  std::vector<std::string> items;
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: items = integer_items(attribute, type.get(), count); break;
    case H5T_FLOAT: items = float_items(attribute, type.get(), count); break;
    case H5T_STRING: items = string_items(attribute, type.get(), space.get(), count); break;
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
      if (H5Tconvert(base.get(), H5T_NATIVE_LLONG, count, converted.data(), nullptr, H5P_DEFAULT) < 0) return std::nullopt;
      std::memcpy(values.data(), converted.data(), values.size() * sizeof(long long));
      for (const long long value : values) items.push_back(std::to_string(value));
      break;
    }
    default:
      return std::nullopt;
  }
  if (items.empty()) return std::nullopt;
  if (H5Sget_simple_extent_type(space.get()) == H5S_SCALAR && items.size() == 1) return items[0];
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

std::string json_object(const std::map<std::string, std::string>& members) {
  std::string out = "{";
  for (const auto& [name, value] : members) out += (out.size() > 1 ? ", " : "") + json_quote(name) + ": " + value;
  return out + "}";
}

std::string string_attribute(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return "";
  const Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  const auto value = attribute_json(attribute.get());
  if (!value || value->size() < 2 || (*value)[0] != '"') return "";
  return value->substr(1, value->size() - 2);
}

}  // namespace kerchunkfs::scanner
