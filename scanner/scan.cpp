#include "scanner/scan.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "scanner/chunk_index.h"
#include "scanner/hdf5_handle.h"

namespace kerchunkfs::scanner {
namespace {

using refstore::json_quote;

// HDF5 and netCDF bookkeeping that is not user metadata.
const std::set<std::string> kHiddenAttributes = {
    "DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates",
    "_NCProperties", "_FillValue", "_nc3_strict"};
constexpr std::string_view kPureDimension = "This is a netCDF dimension but not a netCDF variable";

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string object_name(hid_t object) {
  const ssize_t size = H5Iget_name(object, nullptr, 0);
  std::string name(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
  if (size > 0) H5Iget_name(object, name.data(), name.size() + 1);
  return name;
}

// A JSON number for a double that reads back as exactly the same value (or NaN/Infinity as zarr
// spells them, quoted).
std::string json_double(double value, bool quote_special) {
  if (std::isnan(value)) return quote_special ? "\"NaN\"" : "NaN";
  if (std::isinf(value)) return quote_special ? (value > 0 ? "\"Infinity\"" : "\"-Infinity\"") : (value > 0 ? "Infinity" : "-Infinity");
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// h5py's (and PyTables') booleans: an 8-bit enum of FALSE = 0 and TRUE = 1.
bool is_bool_enum(hid_t type) {
  if (H5Tget_nmembers(type) != 2 || H5Tget_size(type) != 1) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    signed char value = -1;
    H5Tget_member_value(type, i, &value);
    const bool matches = name != nullptr && std::string(name) == (value == 0 ? "FALSE" : "TRUE") && (value == 0 || value == 1);
    H5free_memory(name);
    if (!matches) return false;
  }
  return true;
}

// An enum's members as CF flag attributes, in ascending value: flag_values (numbers) and
// flag_meanings (labels, space-separated).
std::map<std::string, std::string> enum_attributes(hid_t type) {
  std::map<long long, std::string> members;
  const Handle base(H5Tget_super(type), H5Tclose);
  for (int i = 0; i < H5Tget_nmembers(type); ++i) {
    char* name = H5Tget_member_name(type, static_cast<unsigned>(i));
    unsigned char raw[16] = {};
    H5Tget_member_value(type, static_cast<unsigned>(i), raw);
    H5Tconvert(base.get(), H5T_NATIVE_LLONG, 1, raw, nullptr, H5P_DEFAULT);
    long long value = 0;
    std::memcpy(&value, raw, sizeof value);
    members[value] = name ? name : "";
    H5free_memory(name);
  }
  std::string values = "[", meanings;
  for (const auto& [value, name] : members) {
    values += (values.size() > 1 ? ", " : "") + std::to_string(value);
    meanings += (meanings.empty() ? "" : " ") + name;
  }
  return {{"flag_values", values + "]"}, {"flag_meanings", json_quote(meanings)}};
}

// zarr's dtype string for an HDF5 type, or nothing with the reason.
std::optional<std::string> zarr_dtype(hid_t type, std::string& why) {
  const std::size_t size = H5Tget_size(type);
  const bool big = H5Tget_order(type) == H5T_ORDER_BE;
  const std::string order = size == 1 ? "|" : big ? ">" : "<";
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      if (size == 1 || size == 2 || size == 4 || size == 8) {
        return order + (H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "i") + std::to_string(size);
      }
      break;
    case H5T_FLOAT:
      if (size == 2 || size == 4 || size == 8) return order + "f" + std::to_string(size);
      break;
    case H5T_STRING:
      // Variable-length strings are objects in zarr, decoded by the vlen-utf8 codec.
      return H5Tis_variable_str(type) > 0 ? "|O" : "|S" + std::to_string(size);
    case H5T_ENUM: {
      const Handle base(H5Tget_super(type), H5Tclose);
      if (is_bool_enum(type)) return "|b1";
      return zarr_dtype(base.get(), why);
    }
    default:
      break;
  }
  static constexpr const char* kClassNames[] = {"integer", "float", "time", "string", "bitfield", "opaque",
                                                "compound", "reference", "enum", "variable-length", "array"};
  const int type_class = static_cast<int>(H5Tget_class(type));
  why = std::string(type_class >= 0 && type_class <= 10 ? kClassNames[type_class] : "unknown") + " type of " +
        std::to_string(size) + " bytes is not supported yet";
  return std::nullopt;
}

// One value of `type` (stored in file byte order in `bytes`) as JSON, for a fill value.
std::string json_scalar(hid_t type, const unsigned char* bytes) {
  const std::size_t size = H5Tget_size(type);
  const H5T_class_t type_class = H5Tget_class(type);
  if (type_class == H5T_STRING) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < size; i += 3) {
      const unsigned v = (bytes[i] << 16) | ((i + 1 < size ? bytes[i + 1] : 0) << 8) | (i + 2 < size ? bytes[i + 2] : 0);
      out += kAlphabet[(v >> 18) & 63];
      out += kAlphabet[(v >> 12) & 63];
      out += i + 1 < size ? kAlphabet[(v >> 6) & 63] : '=';
      out += i + 2 < size ? kAlphabet[v & 63] : '=';
    }
    return json_quote(out);  // zarr v2 spells byte-string fill values in base64
  }
  // Convert to a native wide type with HDF5 itself, so byte order and width are handled exactly.
  if (type_class == H5T_FLOAT) {
    double value = 0;
    unsigned char buffer[16] = {};
    std::memcpy(buffer, bytes, size);
    H5Tconvert(type, H5T_NATIVE_DOUBLE, 1, buffer, nullptr, H5P_DEFAULT);
    std::memcpy(&value, buffer, sizeof value);
    return json_double(value, true);
  }
  unsigned char buffer[16] = {};
  std::memcpy(buffer, bytes, size);
  if (H5Tget_sign(type) == H5T_SGN_NONE) {
    H5Tconvert(type, H5T_NATIVE_ULLONG, 1, buffer, nullptr, H5P_DEFAULT);
    unsigned long long value = 0;
    std::memcpy(&value, buffer, sizeof value);
    return std::to_string(value);
  }
  H5Tconvert(type, H5T_NATIVE_LLONG, 1, buffer, nullptr, H5P_DEFAULT);
  long long value = 0;
  std::memcpy(&value, buffer, sizeof value);
  return std::to_string(value);
}

// An attribute's value as JSON, or nothing when its type is not one JSON can carry.
std::optional<std::string> attribute_json(hid_t attribute) {
  const Handle type(H5Aget_type(attribute), H5Tclose);
  const Handle space(H5Aget_space(attribute), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  const bool scalar = H5Sget_simple_extent_type(space.get()) == H5S_SCALAR;
  if (count < 0 || H5Sget_simple_extent_type(space.get()) == H5S_NULL) return std::nullopt;
  std::vector<std::string> items;
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER: {
      const bool is_unsigned = H5Tget_sign(type.get()) == H5T_SGN_NONE;
      std::vector<long long> signed_values(count);
      std::vector<unsigned long long> unsigned_values(count);
      if (is_unsigned ? H5Aread(attribute, H5T_NATIVE_ULLONG, unsigned_values.data()) < 0
                      : H5Aread(attribute, H5T_NATIVE_LLONG, signed_values.data()) < 0) {
        return std::nullopt;
      }
      for (hssize_t i = 0; i < count; ++i) {
        items.push_back(is_unsigned ? std::to_string(unsigned_values[i]) : std::to_string(signed_values[i]));
      }
      break;
    }
    case H5T_FLOAT: {
      std::vector<double> values(count);
      if (H5Aread(attribute, H5T_NATIVE_DOUBLE, values.data()) < 0) return std::nullopt;
      // A float32 attribute prints as the shortest text that reads back as that float32.
      const bool single = H5Tget_size(type.get()) == 4;
      for (const double value : values) {
        if (single && std::isfinite(value)) {
          char text[32];
          std::snprintf(text, sizeof text, "%.9g", value);
          items.emplace_back(text);
        } else {
          items.push_back(json_double(value, false));
        }
      }
      break;
    }
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        std::vector<char*> values(count);
        if (H5Aread(attribute, memory.get(), values.data()) < 0) return std::nullopt;
        for (char* value : values) items.push_back(json_quote(value ? value : ""));
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, values.data());
      } else {
        const std::size_t size = H5Tget_size(type.get());
        std::string buffer(size * count, '\0');
        if (H5Aread(attribute, type.get(), buffer.data()) < 0) return std::nullopt;
        for (hssize_t i = 0; i < count; ++i) {
          std::string value = buffer.substr(i * size, size);
          value.erase(value.find_last_not_of('\0') + 1);
          items.push_back(json_quote(value));
        }
      }
      break;
    }
    default:
      return std::nullopt;
  }
  if (scalar && items.size() == 1) return items[0];
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

struct AttributeVisit {
  std::map<std::string, std::string>* out;
};

herr_t visit_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto* visit = static_cast<AttributeVisit*>(data);
  if (kHiddenAttributes.contains(name)) return 0;
  const Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) return 0;
  if (auto value = attribute_json(attribute.get())) (*visit->out)[name] = *value;
  return 0;
}

// Attributes as a JSON object, keys sorted, extra (computed) entries included.
std::string attributes_json(hid_t object, std::map<std::string, std::string> extra = {}) {
  AttributeVisit visit{&extra};
  hsize_t index = 0;
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, visit_attribute, &visit);
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : extra) {
    out += (first ? "" : ", ") + json_quote(name) + ": " + value;
    first = false;
  }
  return out + "}";
}

std::string string_attribute(hid_t object, const char* name) {
  if (H5Aexists(object, name) <= 0) return "";
  const Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  const auto value = attribute_json(attribute.get());
  if (!value || value->size() < 2 || (*value)[0] != '"') return "";
  return value->substr(1, value->size() - 2);
}

herr_t first_scale_name(hid_t, unsigned, hid_t scale, void* data) {
  *static_cast<std::string*>(data) = basename_of(object_name(scale));
  return 1;  // one is enough
}

class Scanner {
 public:
  Scanner(const std::string& path, const ScanOptions& options) : path_(path), options_(options) {
    url_ = options.url.empty() ? path : options.url;
  }

  ScanResult run() {
    const Handle file(H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) throw ScanError(path_ + ": not an HDF5 file, or it cannot be read");
    // HDF5 1.10's H5Dget_chunk_info calls report chunk addresses relative to the superblock,
    // which follows any user block, while H5Dget_offset reports file offsets: chunk addresses
    // need the user block's size added (h5py's get_chunk_info has the same gap). Measured on
    // files with a 512-byte user block; tests/e2e/test_scan.py keeps checking it.
    const Handle create(H5Fget_create_plist(file.get()), H5Pclose);
    if (H5Pget_userblock(create.get(), &base_) < 0) base_ = 0;
    const Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    add_group(root.get(), "");
    return std::move(result_);
  }

 private:
  void put(const std::string& key, std::string bytes) { result_.references[key] = std::move(bytes); }

  void add_group(hid_t group, const std::string& prefix) {
    put(prefix + ".zgroup", "{\"zarr_format\": 2}");
    put(prefix + ".zattrs", attributes_json(group));
    H5O_info_t info{};
    if (H5Oget_info2(group, &info, H5O_INFO_BASIC) >= 0) visited_groups_.insert(info.addr);
    struct Context {
      Scanner* scanner;
      std::string prefix;
    } context{this, prefix};
    hsize_t index = 0;
    H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index,
               [](hid_t parent, const char* name, const H5L_info_t* link, void* data) -> herr_t {
                 auto* c = static_cast<Context*>(data);
                 c->scanner->add_link(parent, name, link->type, c->prefix);
                 return 0;
               },
               &context);
  }

  void add_link(hid_t parent, const char* name, H5L_type_t type, const std::string& prefix) {
    const std::string path = prefix + name;
    if (type == H5L_TYPE_EXTERNAL) return skip(path, "external link: the target file is not scanned");
    const Handle object(H5Oopen(parent, name, H5P_DEFAULT), H5Oclose);
    if (!object.valid()) return skip(path, "a link that leads nowhere");
    switch (H5Iget_type(object.get())) {
      case H5I_GROUP: {
        H5O_info_t info{};
        if (H5Oget_info2(object.get(), &info, H5O_INFO_BASIC) >= 0 && visited_groups_.contains(info.addr)) {
          return skip(path, "a link back to a group already scanned");
        }
        add_group(object.get(), path + "/");
        return;
      }
      case H5I_DATASET:
        add_dataset(object.get(), path);
        return;
      default:
        return skip(path, "a named datatype, not data");
    }
  }

  void skip(const std::string& path, std::string reason) {
    result_.datasets.push_back({path, DatasetReport::Outcome::Skipped, std::move(reason)});
  }
  void refuse(const std::string& path, std::string reason) {
    result_.datasets.push_back({path, DatasetReport::Outcome::Refused, std::move(reason)});
  }

  // The dimension names xarray shows: dimension scales where attached, phony names otherwise.
  std::vector<std::string> dimension_names(hid_t dataset, const std::string& path, const std::vector<hsize_t>& shape) {
    std::vector<std::string> names;
    const bool is_scale = H5DSis_scale(dataset) > 0;
    for (unsigned d = 0; d < shape.size(); ++d) {
      std::string name;
      if (is_scale && d == 0) {
        name = basename_of(path);
      } else if (H5DSget_num_scales(dataset, d) > 0) {
        H5DSiterate_scales(dataset, d, nullptr, first_scale_name, &name);
      }
      if (name.empty()) {
        const auto [it, fresh] = phony_dimensions_.try_emplace(shape[d], phony_dimensions_.size());
        name = "phony_dim_" + std::to_string(it->second);
      }
      names.push_back(name);
    }
    return names;
  }

  void add_dataset(hid_t dataset, const std::string& path) {
    const Handle space(H5Dget_space(dataset), H5Sclose);
    const Handle type(H5Dget_type(dataset), H5Tclose);
    const Handle plist(H5Dget_create_plist(dataset), H5Pclose);
    if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) return skip(path, "a null dataspace holds no data");
    if (string_attribute(dataset, "NAME").starts_with(kPureDimension)) return;  // a netCDF dimension, not a variable

    std::string why;
    const auto dtype = zarr_dtype(type.get(), why);
    if (!dtype) return refuse(path, why);

    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> shape(rank);
    H5Sget_simple_extent_dims(space.get(), shape.data(), nullptr);
    const H5D_layout_t layout = H5Pget_layout(plist.get());
    std::vector<hsize_t> chunks = shape;
    if (layout == H5D_CHUNKED) H5Pget_chunk(plist.get(), rank, chunks.data());
    for (hsize_t& c : chunks) c = std::max<hsize_t>(c, 1);

    auto filters = codecs(plist.get(), H5Tget_size(type.get()), why);
    std::uint64_t bytes_total = H5Tget_size(type.get());
    for (const hsize_t extent : shape) bytes_total *= extent;
    const bool decode_inline = !filters && bytes_total <= options_.inline_unsupported;
    if (!filters && !decode_inline) {
      return refuse(path, why + "; the dataset is larger than --inline-unsupported (" +
                              std::to_string(options_.inline_unsupported) + " bytes)");
    }
    if (decode_inline) {
      filters = "null";
      chunks = shape;  // one chunk, decoded
      for (hsize_t& c : chunks) c = std::max<hsize_t>(c, 1);
    }

    if (*dtype == "|O") return add_vlen_strings(dataset, type.get(), space.get(), path, shape);

    std::string fill = "null";
    H5D_fill_value_t defined{};
    if (H5Pfill_value_defined(plist.get(), &defined) >= 0 && defined != H5D_FILL_VALUE_UNDEFINED) {
      std::vector<unsigned char> bytes(H5Tget_size(type.get()));
      if (H5Pget_fill_value(plist.get(), type.get(), bytes.data()) >= 0) fill = json_scalar(type.get(), bytes.data());
    }

    const auto join = [](const std::vector<hsize_t>& values) {
      std::string out = "[";
      for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
      return out + "]";
    };
    put(path + "/.zarray", "{\"chunks\": " + join(chunks) + ", \"compressor\": null, \"dtype\": " + json_quote(*dtype) +
                               ", \"fill_value\": " + fill + ", \"filters\": " + *filters +
                               ", \"order\": \"C\", \"shape\": " + join(shape) + ", \"zarr_format\": 2}");
    std::string dims = "[";
    for (const std::string& name : dimension_names(dataset, path, shape)) dims += (dims.size() > 1 ? ", " : "") + json_quote(name);
    std::map<std::string, std::string> extra{{"_ARRAY_DIMENSIONS", dims + "]"}};
    if (H5Tget_class(type.get()) == H5T_ENUM && *dtype != "|b1") extra.merge(enum_attributes(type.get()));
    put(path + "/.zattrs", attributes_json(dataset, std::move(extra)));

    const std::string chunk_prefix = path + "/";
    if (layout == H5D_COMPACT || decode_inline) {
      // Read in the file's own type: the library undoes the filters and converts nothing.
      std::string bytes(bytes_total, '\0');
      if (H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0) {
        result_.references.erase(path + "/.zarray");
        result_.references.erase(path + "/.zattrs");
        return refuse(path, "its data cannot be decoded here (" + (why.empty() ? "read error" : why) + ")");
      }
      put(chunk_prefix + zero_key(rank), std::move(bytes));
      result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
      return;
    }
    if (layout == H5D_CONTIGUOUS) {
      const haddr_t offset = H5Dget_offset(dataset);
      if (offset != HADDR_UNDEF) add_chunk(chunk_prefix + zero_key(rank), offset, H5Dget_storage_size(dataset));
      result_.datasets.push_back({path, DatasetReport::Outcome::Referenced, ""});
      return;
    }
    if (!add_chunks(dataset, chunk_prefix, shape, chunks, why)) {
      // Roll back what this dataset wrote, so that no reference decodes to wrong values.
      result_.references.erase(result_.references.lower_bound(chunk_prefix), result_.references.lower_bound(path + "0"));
      return refuse(path, why);
    }
    result_.datasets.push_back({path, DatasetReport::Outcome::Referenced, ""});
  }

  // Variable-length strings: read whole and inlined as one chunk in numcodecs' vlen-utf8
  // framing (an item count, then each item's length and bytes, little-endian 32-bit).
  void add_vlen_strings(hid_t dataset, hid_t type, hid_t space, const std::string& path, const std::vector<hsize_t>& shape) {
    const hssize_t count = H5Sget_simple_extent_npoints(space);
    const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type));
    std::vector<char*> items(static_cast<std::size_t>(count));
    if (H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, items.data()) < 0) {
      return refuse(path, "its strings cannot be read");
    }
    const auto append32 = [](std::string& out, std::uint32_t value) {
      for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
    };
    std::string chunk;
    append32(chunk, static_cast<std::uint32_t>(count));
    for (const char* item : items) {
      const std::string_view text = item ? item : "";
      append32(chunk, static_cast<std::uint32_t>(text.size()));
      chunk += text;
    }
    H5Dvlen_reclaim(memory.get(), space, H5P_DEFAULT, items.data());

    std::vector<hsize_t> chunks = shape;
    for (hsize_t& c : chunks) c = std::max<hsize_t>(c, 1);
    std::string shape_json = "[", chunks_json = "[";
    for (std::size_t d = 0; d < shape.size(); ++d) {
      shape_json += (d ? ", " : "") + std::to_string(shape[d]);
      chunks_json += (d ? ", " : "") + std::to_string(chunks[d]);
    }
    put(path + "/.zarray", "{\"chunks\": " + chunks_json + "], \"compressor\": null, \"dtype\": \"|O\", " +
                               "\"fill_value\": \"\", \"filters\": [{\"id\": \"vlen-utf8\"}], \"order\": \"C\", " +
                               "\"shape\": " + shape_json + "], \"zarr_format\": 2}");
    std::string dims = "[";
    for (const std::string& name : dimension_names(dataset, path, shape)) dims += (dims.size() > 1 ? ", " : "") + json_quote(name);
    put(path + "/.zattrs", attributes_json(dataset, {{"_ARRAY_DIMENSIONS", dims + "]"}}));
    put(path + "/" + zero_key(static_cast<int>(shape.size())), std::move(chunk));
    result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
  }

  static std::string zero_key(int rank) {
    std::string key = "0";
    for (int d = 1; d < rank; ++d) key += ".0";
    return key;
  }

  // The HDF5 filter pipeline as zarr filters, in the order they were applied when writing.
  static std::optional<std::string> codecs(hid_t plist, std::size_t element_size, std::string& why) {
    const int count = H5Pget_nfilters(plist);
    if (count == 0) return "null";
    std::string out = "[";
    for (int i = 0; i < count; ++i) {
      unsigned flags = 0, config = 0;
      std::size_t n = 8;
      unsigned values[8] = {};
      char name[64] = {};
      const H5Z_filter_t filter = H5Pget_filter2(plist, static_cast<unsigned>(i), &flags, &n, values, sizeof name, name, &config);
      std::string codec;
      if (filter == H5Z_FILTER_DEFLATE) {
        codec = "{\"id\": \"zlib\", \"level\": " + std::to_string(n > 0 ? values[0] : 6) + "}";
      } else if (filter == H5Z_FILTER_SHUFFLE) {
        codec = "{\"elementsize\": " + std::to_string(element_size) + ", \"id\": \"shuffle\"}";
      } else {
        why = "filter " + std::to_string(filter) + " (" + name + ") has no zarr codec here yet";
        return std::nullopt;
      }
      out += (i ? ", " : "") + codec;
    }
    return out + "]";
  }

  void add_chunk(const std::string& key, std::uint64_t offset, std::uint64_t length) {
    if (length < options_.inline_threshold) {
      std::string bytes(length, '\0');
      file_stream().seekg(static_cast<std::streamoff>(offset));
      file_stream().read(bytes.data(), static_cast<std::streamsize>(length));
      if (file_stream()) {
        put(key, std::move(bytes));
        return;
      }
      file_stream().clear();
    }
    result_.references[key] = refstore::RangeReference{url_, offset, length};
    ++result_.chunk_references;
  }

  std::ifstream& file_stream() {
    if (!raw_.is_open()) raw_.open(path_, std::ios::binary);
    return raw_;
  }

  // Every stored chunk: from the v1 B-tree in one pass where the dataset has one, otherwise by
  // asking the library for each position of the chunk grid.
  bool add_chunks(hid_t dataset, const std::string& prefix, const std::vector<hsize_t>& shape,
                  const std::vector<hsize_t>& chunks, std::string& why) {
    if (!options_.library_chunk_index) {
      if (const auto index = read_v1_btree_chunks(file_stream(), dataset, static_cast<int>(shape.size()))) {
        return add_indexed_chunks(*index, prefix, shape, chunks, why);
      }
    }
    return add_chunks_by_coordinate(dataset, prefix, shape, chunks, why);
  }

  bool add_indexed_chunks(const std::vector<ChunkLocation>& index, const std::string& prefix,
                          const std::vector<hsize_t>& shape, const std::vector<hsize_t>& chunks, std::string& why) {
    for (const ChunkLocation& chunk : index) {
      std::string key;
      for (std::size_t d = 0; d < shape.size(); ++d) {
        // The index only ever holds chunks on the grid inside the extent; anything else means
        // the file is not what it seems, and nothing it says is used.
        if (chunk.offset[d] % chunks[d] != 0 || chunk.offset[d] >= std::max<hsize_t>(shape[d], 1)) {
          why = "its chunk index lists a chunk off the chunk grid";
          return false;
        }
        key += (d ? "." : "") + std::to_string(chunk.offset[d] / chunks[d]);
      }
      if (chunk.filter_mask != 0) {
        why = "chunk " + key + " skipped some of its filters (mask " + std::to_string(chunk.filter_mask) + ")";
        return false;
      }
      add_chunk(prefix + key, chunk.address, chunk.size);
    }
    return true;
  }

  bool add_chunks_by_coordinate(hid_t dataset, const std::string& prefix, const std::vector<hsize_t>& shape,
                                const std::vector<hsize_t>& chunks, std::string& why) {
    const std::size_t rank = shape.size();
    std::vector<hsize_t> grid(rank), position(rank, 0), offset(rank);
    std::uint64_t total = 1;
    for (std::size_t d = 0; d < rank; ++d) {
      grid[d] = (shape[d] + chunks[d] - 1) / chunks[d];
      total *= grid[d];
    }
    for (std::uint64_t n = 0; n < total; ++n) {
      std::string key;
      for (std::size_t d = 0; d < rank; ++d) {
        offset[d] = position[d] * chunks[d];
        key += (d ? "." : "") + std::to_string(position[d]);
      }
      unsigned mask = 0;
      haddr_t address = HADDR_UNDEF;
      hsize_t size = 0;
      if (H5Dget_chunk_info_by_coord(dataset, offset.data(), &mask, &address, &size) >= 0 && address != HADDR_UNDEF) {
        if (mask != 0) {
          why = "chunk " + key + " skipped some of its filters (mask " + std::to_string(mask) + ")";
          return false;
        }
        add_chunk(prefix + key, base_ + address, size);
      }
      for (std::size_t d = rank; d-- > 0;) {
        if (++position[d] < grid[d]) break;
        position[d] = 0;
      }
    }
    return true;
  }

  std::string path_;
  ScanOptions options_;
  std::string url_;
  ScanResult result_;
  std::set<haddr_t> visited_groups_;
  hsize_t base_ = 0;  // the user block's size
  std::map<hsize_t, std::size_t> phony_dimensions_;
  std::ifstream raw_;
};

}  // namespace

ScanResult scan_file(const std::string& path, const ScanOptions& options) { return Scanner(path, options).run(); }

}  // namespace kerchunkfs::scanner
