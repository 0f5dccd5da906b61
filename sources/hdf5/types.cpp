#include "sources/hdf5/types.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "refstore/base64.h"
#include "refstore/writer.h"

namespace kerchunkfs::sources {
namespace {

using refstore::json_quote;

std::string order_prefix(hid_t type) {
  if (H5Tget_size(type) == 1) return "|";
  return H5Tget_order(type) == H5T_ORDER_BE ? ">" : "<";
}

std::string class_name(hid_t type) {
  static constexpr const char* kClassNames[] = {"integer",  "float",           "time",     "string",
                                                "bitfield", "opaque",          "compound", "reference",
                                                "enum",     "variable-length", "array"};
  const int type_class = static_cast<int>(H5Tget_class(type));
  return type_class >= 0 && type_class <= 10 ? kClassNames[type_class] : "unknown";
}

std::string dims_json(const std::vector<hsize_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
  return out + "]";
}

std::vector<hsize_t> array_dims(hid_t type) {
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(H5Tget_array_ndims(type), 0)));
  H5Tget_array_dims2(type, dims.data());
  return dims;
}

// h5py's complex numbers: a compound of two equal floats named r and i, in that order, packed.
bool is_complex(hid_t type) {
  if (H5Tget_class(type) != H5T_COMPOUND || H5Tget_nmembers(type) != 2) return false;
  const Handle real(H5Tget_member_type(type, 0), H5Tclose);
  const Handle imaginary(H5Tget_member_type(type, 1), H5Tclose);
  const std::size_t size = H5Tget_size(real.get());
  return member_name(type, 0) == "r" && member_name(type, 1) == "i" && H5Tget_class(real.get()) == H5T_FLOAT &&
         H5Tequal(real.get(), imaginary.get()) > 0 && (size == 4 || size == 8) && H5Tget_member_offset(type, 0) == 0 &&
         H5Tget_member_offset(type, 1) == size && H5Tget_size(type) == 2 * size;
}

// What stops a type's stored bytes from being zarr's bytes as they are.
enum class Obstacle { None, Padding, VariableLength };

// The zarr dtype (JSON) for a type whose bytes zarr can read as stored; `obstacle` says when the
// bytes need HDF5 to rearrange them first; an error when zarr has no such dtype.
common::Result<std::string> descriptor(hid_t type, Obstacle& obstacle) {
  const std::size_t size = H5Tget_size(type);
  const std::string order = order_prefix(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      if (size == 1 || size == 2 || size == 4 || size == 8) {
        return json_quote(order + (H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "i") + std::to_string(size));
      }
      break;
    case H5T_BITFIELD:  // bits with no arithmetic meaning: h5py reads them as unsigned integers
      if (size == 1 || size == 2 || size == 4 || size == 8) return json_quote(order + "u" + std::to_string(size));
      break;
    case H5T_FLOAT:
      if (size == 2 || size == 4 || size == 8) return json_quote(order + "f" + std::to_string(size));
      return common::Error{std::to_string(size * 8) + "-bit floats have no portable zarr dtype"};
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) {
        obstacle = Obstacle::VariableLength;
        return json_quote("|O");
      }
      return json_quote("|S" + std::to_string(size));
    case H5T_OPAQUE:
      return json_quote("|V" + std::to_string(size));
    case H5T_ENUM: {
      if (is_bool_enum(type)) return json_quote("|b1");
      const Handle base(H5Tget_super(type), H5Tclose);
      return descriptor(base.get(), obstacle);
    }
    case H5T_ARRAY: {
      // Only inside a compound: a top-level array type becomes trailing axes instead.
      const Handle base(H5Tget_super(type), H5Tclose);
      return descriptor(base.get(), obstacle);
    }
    case H5T_COMPOUND: {
      if (is_complex(type)) return json_quote(order_prefix(type) + "c" + std::to_string(size));
      std::string out = "[";
      std::size_t next_offset = 0;
      for (const unsigned m : members_by_offset(type)) {
        const Handle member(H5Tget_member_type(type, m), H5Tclose);
        if (H5Tget_member_offset(type, m) != next_offset) obstacle = std::max(obstacle, Obstacle::Padding);
        next_offset = H5Tget_member_offset(type, m) + H5Tget_size(member.get());
        const auto inner = descriptor(member.get(), obstacle);
        if (!inner) return common::wrap(inner.error(), "member " + member_name(type, m));
        out += (out.size() > 1 ? ", [" : "[") + json_quote(member_name(type, m)) + ", " + *inner;
        if (H5Tget_class(member.get()) == H5T_ARRAY) out += ", " + dims_json(array_dims(member.get()));
        out += "]";
      }
      if (next_offset != size) obstacle = std::max(obstacle, Obstacle::Padding);
      return out + "]";
    }
    case H5T_VLEN:
      obstacle = Obstacle::VariableLength;
      return json_quote("|O");
    case H5T_TIME:
      return common::Error{
          "HDF5's time class leaves the encoding to the writer (PyTables stores seconds as int32 or float64): no zarr "
          "dtype can say which"};
    case H5T_REFERENCE:
      return common::Error{"object and region references point into the HDF5 file and have no zarr equivalent"};
    default:
      break;
  }
  return common::Error{class_name(type) + " type of " + std::to_string(size) + " bytes is not supported"};
}

}  // namespace

std::string member_name(hid_t compound, unsigned index) {
  char* name = H5Tget_member_name(compound, index);
  std::string out = name ? name : "";
  H5free_memory(name);
  return out;
}

std::vector<unsigned> members_by_offset(hid_t compound) {
  std::vector<unsigned> members(static_cast<std::size_t>(std::max(H5Tget_nmembers(compound), 0)));
  std::iota(members.begin(), members.end(), 0u);
  std::ranges::stable_sort(members, {}, [&](unsigned m) { return H5Tget_member_offset(compound, m); });
  return members;
}

bool is_bool_enum(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2 || H5Tget_size(type) != 1) return false;
  for (unsigned i = 0; i < 2; ++i) {
    signed char value = -1;
    H5Tget_member_value(type, i, &value);
    if (member_name(type, i) != (value == 0 ? "FALSE" : "TRUE") || (value != 0 && value != 1)) return false;
  }
  return true;
}

std::map<std::string, std::string> enum_attributes(hid_t type) {
  std::map<long long, std::string> members;
  const Handle base(H5Tget_super(type), H5Tclose);
  for (int i = 0; i < H5Tget_nmembers(type); ++i) {
    unsigned char raw[16] = {};
    H5Tget_member_value(type, static_cast<unsigned>(i), raw);
    H5Tconvert(base.get(), H5T_NATIVE_LLONG, 1, raw, nullptr, H5P_DEFAULT);
    long long value = 0;
    std::memcpy(&value, raw, sizeof value);
    members[value] = member_name(type, static_cast<unsigned>(i));
  }
  std::string values = "[", meanings;
  for (const auto& [value, name] : members) {
    values += (values.size() > 1 ? ", " : "") + std::to_string(value);
    meanings += (meanings.empty() ? "" : " ") + name;
  }
  return {{"flag_values", values + "]"}, {"flag_meanings", json_quote(meanings)}};
}

common::Result<ZarrType> zarr_type(hid_t type) {
  ZarrType zarr;
  hid_t element = type;
  Handle array_base;
  if (H5Tget_class(type) == H5T_ARRAY) {
    zarr.element_shape = array_dims(type);
    array_base = Handle(H5Tget_super(type), H5Tclose);
    element = array_base.get();
  }
  Obstacle obstacle = Obstacle::None;
  auto dtype = descriptor(element, obstacle);
  if (!dtype) return dtype.error();
  zarr.dtype = *dtype;
  zarr.memory = Handle(H5Tcopy(type), H5Tclose);
  if (obstacle == Obstacle::None) return zarr;
  if (H5Tget_class(element) == H5T_STRING && zarr.element_shape.empty()) {
    zarr.storage = ZarrType::Storage::VlenString;
    return zarr;
  }
  if (H5Tget_class(element) == H5T_VLEN && zarr.element_shape.empty()) {
    const Handle items(H5Tget_super(element), H5Tclose);
    Obstacle inner = Obstacle::None;
    const auto item_dtype = descriptor(items.get(), inner);
    if (!item_dtype) return item_dtype.error();
    if (inner != Obstacle::None || item_dtype->front() != '"') {
      return common::Error{"variable-length sequences of " + class_name(items.get()) + " items have no zarr codec"};
    }
    zarr.storage = ZarrType::Storage::VlenSequence;
    zarr.base_dtype = item_dtype->substr(1, item_dtype->size() - 2);
    return zarr;
  }
  if (obstacle == Obstacle::VariableLength) {
    if (H5Tget_class(element) != H5T_COMPOUND || !zarr.element_shape.empty()) {
      return common::Error{class_name(type) + " type with variable-length members has no zarr form"};
    }
    zarr.storage = ZarrType::Storage::StringRecords;
    return zarr;
  }
  // Gaps between compound members: HDF5 reads the values into the packed layout zarr describes.
  H5Tpack(zarr.memory.get());
  Obstacle repacked = Obstacle::None;
  dtype = descriptor(zarr.memory.get(), repacked);
  if (!dtype || repacked != Obstacle::None) {
    return common::Error{"compound type whose members cannot be packed"};
  }
  zarr.dtype = *dtype;
  zarr.storage = ZarrType::Storage::Packed;
  return zarr;
}

std::string fill_value_json(const ZarrType& zarr, const unsigned char* bytes) {
  hid_t element = zarr.memory.get();
  Handle array_base;
  if (H5Tget_class(element) == H5T_ARRAY) {  // every element of the array shares the fill value
    array_base = Handle(H5Tget_super(element), H5Tclose);
    element = array_base.get();
  }
  const std::size_t size = H5Tget_size(element);
  const auto convert = [&](hid_t from, hid_t to, const unsigned char* value, auto result) {
    unsigned char buffer[32] = {};
    std::memcpy(buffer, value, std::min(size, sizeof buffer));
    H5Tconvert(from, to, 1, buffer, nullptr, H5P_DEFAULT);
    std::memcpy(&result, buffer, sizeof result);
    return result;
  };
  switch (H5Tget_class(element)) {
    case H5T_FLOAT:
      return json_double(convert(element, H5T_NATIVE_DOUBLE, bytes, 0.0), true);
    case H5T_INTEGER:
      if (H5Tget_sign(element) == H5T_SGN_NONE) return std::to_string(convert(element, H5T_NATIVE_ULLONG, bytes, 0ULL));
      return std::to_string(convert(element, H5T_NATIVE_LLONG, bytes, 0LL));
    case H5T_BITFIELD: {
      unsigned long long value = 0;
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t at = H5Tget_order(element) == H5T_ORDER_BE ? i : size - 1 - i;
        value = (value << 8) | bytes[at];
      }
      return std::to_string(value);
    }
    case H5T_ENUM: {
      if (is_bool_enum(element)) return bytes[0] ? "true" : "false";
      const Handle base(H5Tget_super(element), H5Tclose);
      ZarrType base_zarr;
      base_zarr.memory = Handle(H5Tcopy(base.get()), H5Tclose);
      return fill_value_json(base_zarr, bytes);
    }
    case H5T_COMPOUND:
      if (is_complex(element)) {
        const Handle part(H5Tget_member_type(element, 0), H5Tclose);
        const std::size_t half = size / 2;
        double re = 0, im = 0;
        unsigned char buffer[16] = {};
        std::memcpy(buffer, bytes, half);
        H5Tconvert(part.get(), H5T_NATIVE_DOUBLE, 1, buffer, nullptr, H5P_DEFAULT);
        std::memcpy(&re, buffer, sizeof re);
        std::memset(buffer, 0, sizeof buffer);
        std::memcpy(buffer, bytes + half, half);
        H5Tconvert(part.get(), H5T_NATIVE_DOUBLE, 1, buffer, nullptr, H5P_DEFAULT);
        std::memcpy(&im, buffer, sizeof im);
        return "[" + json_double(re, true) + ", " + json_double(im, true) + "]";
      }
      [[fallthrough]];
    default:  // byte strings, opaque and structured values: their bytes in base64, as zarr v2 spells them
      return json_quote(refstore::base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), size)));
  }
}

}  // namespace kerchunkfs::sources
