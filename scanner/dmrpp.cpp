#include "scanner/dmrpp.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "common/zarr_array.h"
#include "fetch/url.h"
#include "refstore/base64.h"
#include "refstore/compression.h"
#include "refstore/writer.h"
#include "scanner/attributes.h"
#include "scanner/types.h"
#include "scanner/xml_tree.h"

namespace kerchunkfs::scanner {
namespace {

using refstore::json_quote;

struct AtomicType {
  std::string_view dap;
  char kind;  // zarr's: i, u, f
  int size;
};
constexpr AtomicType kAtomicTypes[] = {
    {"Byte", 'u', 1},  {"UInt8", 'u', 1},  {"Int8", 'i', 1},    {"Char", 'S', 1},
    {"Int16", 'i', 2}, {"UInt16", 'u', 2}, {"Int32", 'i', 4},   {"UInt32", 'u', 4},
    {"Int64", 'i', 8}, {"UInt64", 'u', 8}, {"Float32", 'f', 4}, {"Float64", 'f', 8},
};

const AtomicType* atomic_type(std::string_view name) {
  for (const AtomicType& type : kAtomicTypes) {
    if (type.dap == name) return &type;
  }
  return nullptr;
}

// Variables DAP4 has that a zarr array of fixed-size numbers cannot be made of from the sidecar.
const std::set<std::string_view> kRefusedTypes = {"String", "URL", "Structure", "Sequence", "Opaque"};

// What the HDF5 handler adds (origname, fullnamepath) and HDF5/netCDF bookkeeping that the HDF5
// scanner hides too.
const std::set<std::string_view> kHiddenAttributes = {
    "origname",      "fullnamepath",        "DIMENSION_LIST", "REFERENCE_LIST", "CLASS",      "NAME",
    "_Netcdf4Dimid", "_Netcdf4Coordinates", "_NCProperties",  "_FillValue",     "_nc3_strict"};

std::string last_component(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t start = text.find_first_not_of(" \t\r\n,[]", at);
    if (start == std::string_view::npos) break;
    const std::size_t end = std::min(text.find_first_of(" \t\r\n,[]", start), text.size());
    out.push_back(text.substr(start, end - start));
    at = end;
  }
  return out;
}

class DmrppScanner {
 public:
  DmrppScanner(const std::string& location, const ScanOptions& options) : location_(location), options_(options) {}

  ScanResult run(std::string_view sidecar) {
    auto root = parse_xml(sidecar, location_);
    if (!root) throw ScanError(root.error().message);
    const XmlElement& dataset = **root;
    if (dataset.name != "Dataset" || dataset.attribute("dmrpp:href").empty()) {
      fail(dataset, "the root is no DMR++ Dataset with a dmrpp:href: not a DMR++ sidecar");
    }
    dataset_href_ = dataset.attribute("dmrpp:href");
    target_ = target_of(dataset_href_);
    add_group(dataset, "", "");
    return std::move(result_);
  }

 private:
  [[noreturn]] void fail(const XmlElement& element, const std::string& what) const {
    throw ScanError(location_ + ": line " + std::to_string(element.line) + ": <" + element.name + ">: " + what);
  }

  // A URL as written; a relative path, an absolute path from the server's data root, or a template
  // (OPENDAP_DMRpp_DATA_ACCESS_URL and the like): the granule beside the sidecar.
  std::string target_of(std::string_view href) const {
    if (!options_.url.empty()) return options_.url;
    if (fetch::url_scheme(href) != "file" || href.starts_with("file://")) return std::string(href);
    const std::string granule = location_.substr(0, location_.rfind(".dmrpp"));
    return fetch::url_scheme(granule) == "file" ? std::filesystem::absolute(granule).string() : granule;
  }

  // A chunk's own href (another file, such as a store of variables missing from the granule): a
  // URL as written; a path relative to the dataset's href, beside the granule.
  std::string chunk_target(std::string_view href) const {
    if (fetch::url_scheme(href) != "file" || href.starts_with("file://")) return std::string(href);
    const std::size_t folder = dataset_href_.rfind('/');
    std::string_view name = href;
    if (folder != std::string::npos && href.starts_with(dataset_href_.substr(0, folder + 1))) {
      name.remove_prefix(folder + 1);
    }
    const std::size_t granule_folder = target_.rfind('/');
    return (granule_folder == std::string::npos ? std::string() : target_.substr(0, granule_folder + 1)) +
           std::string(name);
  }

  void put(const std::string& key, std::string bytes) { result_.references[key] = std::move(bytes); }

  void add_group(const XmlElement& group, const std::string& prefix, const std::string& dap_path) {
    put(prefix + ".zgroup", "{\"zarr_format\": 2}");
    for (const auto& child : group.children) {
      if (child->name == "Dimension") {
        const std::string name(child->attribute("name"));
        dimensions_[dap_path + "/" + name] = size_of(*child, child->attribute("size"));
      } else if (child->name == "Enumeration") {
        enumerations_[dap_path + "/" + std::string(child->attribute("name"))] = child.get();
      }
    }
    put(prefix + ".zattrs", json_object(attributes_of(group)));
    for (const auto& child : group.children) {
      const std::string name(child->attribute("name"));
      if (child->name == "Group") {
        add_group(*child, prefix + name + "/", dap_path + "/" + name);
      } else if (child->name == "Enum" || atomic_type(child->name) != nullptr) {
        add_variable(*child, hdf5_path(*child, prefix + name), dap_path);
      } else if (kRefusedTypes.contains(child->name)) {
        refuse(prefix + name, child->name + " variables need the granule itself (their layout is not in the sidecar)");
      }
    }
  }

  // Where the HDF5 scanner puts the variable: its HDF5 path, which the HDF5 handler records in
  // fullnamepath (DAP names have characters such as spaces replaced), groups made for it.
  std::string hdf5_path(const XmlElement& variable, const std::string& dap_name) {
    std::string path = dap_name;
    for (const auto& child : variable.children) {
      if (child->name != "Attribute" || child->attribute("name") != "fullnamepath") continue;
      for (const auto& value : child->children) {
        const std::string_view text = trimmed(value->text);
        if (value->name == "Value" && text.size() > 1 && text.front() == '/') path = std::string(text.substr(1));
      }
    }
    for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      const std::string group = path.substr(0, slash + 1);
      if (!result_.references.contains(group + ".zgroup")) {
        put(group + ".zgroup", "{\"zarr_format\": 2}");
        put(group + ".zattrs", "{}");
      }
    }
    return path;
  }

  void refuse(const std::string& path, std::string why) {
    result_.datasets.push_back({path, DatasetReport::Outcome::Refused, std::move(why)});
  }

  std::uint64_t size_of(const XmlElement& element, std::string_view text) const {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
      fail(element, "\"" + std::string(text) + "\" is no size");
    }
    return value;
  }

  // Attributes of one element as JSON values, Container attributes and bookkeeping left out.
  std::map<std::string, std::string> attributes_of(const XmlElement& element) const {
    std::map<std::string, std::string> out;
    for (const auto& child : element.children) {
      if (child->name != "Attribute") continue;
      const std::string name(child->attribute("name"));
      if (kHiddenAttributes.contains(name)) continue;
      const std::string_view type = child->attribute("type");
      std::vector<std::string> values;
      for (const auto& value : child->children) {
        if (value->name != "Value") continue;
        if (type == "String" || type == "URL") {
          values.push_back(json_quote(value->text));
        } else if (const AtomicType* atomic = atomic_type(type); atomic != nullptr && atomic->kind != 'S') {
          values.push_back(number_json(*value, value->text, *atomic));
        }
      }
      if (values.empty()) continue;  // containers, and types with no JSON form
      std::string json = values.size() == 1 ? values[0] : "[";
      if (values.size() > 1) {
        for (std::size_t i = 0; i < values.size(); ++i) json += (i ? ", " : "") + values[i];
        json += "]";
      }
      out[name] = json;
    }
    return out;
  }

  // A number written in the sidecar, as JSON of its type (float32 as the HDF5 scanner writes it).
  std::string number_json(const XmlElement& element, std::string_view text, const AtomicType& type) const {
    const auto parts = words(text);
    const std::string trimmed(parts.empty() ? std::string_view() : parts.front());
    char* end = nullptr;
    if (type.kind == 'f') {
      const double value = std::strtod(trimmed.c_str(), &end);
      if (trimmed.empty() || *end != '\0') fail(element, "\"" + trimmed + "\" is no number");
      return type.size == 4 ? float_json(static_cast<float>(value)) : json_double(value, false);
    }
    if (type.kind == 'u') {
      const unsigned long long value = std::strtoull(trimmed.c_str(), &end, 10);
      if (trimmed.empty() || *end != '\0' || trimmed.front() == '-') fail(element, "\"" + trimmed + "\" is no number");
      return std::to_string(value);
    }
    const long long value = std::strtoll(trimmed.c_str(), &end, 10);
    if (trimmed.empty() || *end != '\0') fail(element, "\"" + trimmed + "\" is no number");
    return std::to_string(value);
  }

  static std::string float_json(float value) {
    if (!std::isfinite(value)) return json_double(value, false);
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
    return text;
  }

  void add_variable(const XmlElement& variable, const std::string& path, const std::string& dap_path) {
    // The element type: an atomic type, or an Enum's base type.
    const AtomicType* type = atomic_type(variable.name);
    std::map<std::string, std::string> attributes = attributes_of(variable);
    bool boolean = false;
    if (variable.name == "Enum") {
      std::string enum_path(variable.attribute("enum"));
      if (!enum_path.starts_with("/")) enum_path = dap_path + "/" + enum_path;
      const auto found = enumerations_.find(enum_path);
      if (found == enumerations_.end()) fail(variable, "its enumeration " + enum_path + " is not declared");
      type = atomic_type(found->second->attribute("basetype"));
      if (type == nullptr) fail(*found->second, "no integer basetype");
      std::string values = "[", meanings;
      std::map<std::string, std::string> constants;
      for (const auto& constant : found->second->children) {
        if (constant->name != "EnumConst") continue;
        const std::string value = number_json(*constant, constant->attribute("value"), *type);
        values += (values.size() > 1 ? ", " : "") + value;
        meanings += (meanings.empty() ? "" : " ") + std::string(constant->attribute("name"));
        constants[std::string(constant->attribute("name"))] = value;
      }
      // FALSE = 0, TRUE = 1 in one byte: a boolean, as h5py and the HDF5 scanner read it.
      boolean = type->size == 1 && constants == std::map<std::string, std::string>{{"FALSE", "0"}, {"TRUE", "1"}};
      if (!boolean) {
        attributes["flag_values"] = values + "]";
        attributes["flag_meanings"] = json_quote(meanings);
      }
    }

    std::vector<std::uint64_t> shape;
    std::vector<std::string> names;
    std::map<std::uint64_t, int> anonymous;  // size → how many so far in this variable
    for (const auto& child : variable.children) {
      if (child->name != "Dim") continue;
      const std::string_view name = child->attribute("name");
      if (!name.empty()) {
        const std::string full = name.starts_with("/") ? std::string(name) : dap_path + "/" + std::string(name);
        const auto found = dimensions_.find(full);
        if (found == dimensions_.end()) fail(*child, "dimension " + full + " is not declared");
        shape.push_back(found->second);
        names.push_back(last_component(full));
      } else {
        const std::uint64_t size = size_of(*child, child->attribute("size"));
        shape.push_back(size);
        names.push_back(phony_name(dap_path, size, anonymous[size]++));
      }
    }

    const XmlElement* chunks = nullptr;
    const XmlElement* compact = nullptr;
    const XmlElement* missing = nullptr;
    for (const auto& child : variable.children) {
      if (child->name == "dmrpp:chunks") chunks = child.get();
      // Older sidecars put the chunks right inside the variable.
      if (child->name == "dmrpp:chunk" && chunks == nullptr) chunks = &variable;
      if (child->name == "dmrpp:compact") compact = child.get();
      if (child->name == "dmrpp:missingdata") missing = child.get();
    }
    std::string_view order = chunks != nullptr ? chunks->attribute("byteOrder") : std::string_view();
    if (order.empty() && chunks != nullptr) order = chunks->attribute("byteOrde");  // as some sidecars spell it
    if (order.empty() && type->size > 1 && (chunks != nullptr || compact != nullptr)) {
      return refuse(path, "the sidecar does not say the byte order of its " + std::string(variable.name) + " values");
    }
    const char endian = type->size == 1 ? '|' : order == "BE" ? '>' : '<';
    const std::string dtype =
        boolean ? "\"|b1\"" : std::string("\"") + endian + type->kind + std::to_string(type->size) + "\"";

    std::vector<std::uint64_t> chunk_shape = shape;
    std::vector<std::string> filters;
    std::uint64_t checksum_bytes = 0;
    std::string fill = "0";  // HDF5's default fill
    if (chunks != nullptr) {
      if (const auto sizes = child_text(*chunks, "dmrpp:chunkDimensionSizes")) {
        chunk_shape.clear();
        for (const std::string_view word : words(*sizes)) chunk_shape.push_back(size_of(*chunks, word));
        if (chunk_shape.size() != shape.size()) fail(*chunks, "chunkDimensionSizes of another rank than the array");
      }
      if (const std::string_view value = chunks->attribute("fillValue"); !value.empty()) {
        fill = type->kind == 'S' ? "null" : fill_json(*chunks, value, *type);
      }
      const std::vector<std::string_view> chain = words(chunks->attribute("compressionType"));
      std::string_view level = chunks->attribute("deflateLevel");
      if (level.empty()) level = chunks->attribute("deflate_level");
      std::vector<std::string> codecs;
      for (std::size_t i = 0; i < chain.size(); ++i) {
        if (chain[i] == "deflate") {
          codecs.push_back("{\"id\": \"zlib\", \"level\": " + std::string(level.empty() ? "6" : level) + "}");
        } else if (chain[i] == "shuffle") {
          codecs.push_back("{\"elementsize\": " + std::to_string(type->size) + ", \"id\": \"shuffle\"}");
        } else if (chain[i] == "fletcher32" && i + 1 == chain.size()) {
          checksum_bytes = 4;  // appended last, after the other filters: outside the codecs' bytes
        } else if (chain[i] == "fletcher32") {
          return refuse(path, "fletcher32 before " + std::string(chain[i + 1]) +
                                  ": its checksum is inside the filtered bytes, and zarr has no codec that drops it");
        } else {
          return refuse(path, "the filter \"" + std::string(chain[i]) + "\" has no zarr codec here");
        }
      }
      filters = codecs;  // in the order they were applied, as the HDF5 scanner writes them
    }
    for (std::uint64_t& extent : chunk_shape) extent = std::max<std::uint64_t>(extent, 1);
    attributes["_ARRAY_DIMENSIONS"] = json_names(names);
    put(path + "/.zattrs", json_object(attributes));
    std::string filter_json = "null";
    if (!filters.empty()) {
      filter_json = "[";
      for (std::size_t i = 0; i < filters.size(); ++i) filter_json += (i ? ", " : "") + filters[i];
      filter_json += "]";
    }
    put(path + "/.zarray", "{\"chunks\": " + json_list(chunk_shape) + ", \"compressor\": null" +
                               ", \"dtype\": " + dtype + ", \"fill_value\": " + fill + ", \"filters\": " + filter_json +
                               ", \"order\": \"C\", \"shape\": " + json_list(shape) + ", \"zarr_format\": 2}");

    if (compact != nullptr || missing != nullptr) {
      // The whole array's bytes in the sidecar: base64 (missing data zlib-compressed as well).
      const XmlElement& holder = compact != nullptr ? *compact : *missing;
      std::string data;
      if (!refstore::base64_decode_append(trimmed(holder.text), data)) fail(holder, "not base64");
      std::uint64_t expected = type->size;
      for (const std::uint64_t extent : shape) expected *= extent;
      if (missing != nullptr && compact == nullptr) {
        auto expanded = refstore::decompress(data, refstore::Compression::Gzip, location_, expected);
        if (!expanded) fail(holder, expanded.error().message);
        data = std::move(*expanded);
      }
      if (data.size() != expected) {
        fail(holder, std::to_string(data.size()) + " bytes for an array of " + std::to_string(expected));
      }
      put(path + "/" + common::chunk_key(std::vector<std::uint64_t>(shape.size(), 0)), std::move(data));
      result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
      return;
    }
    if (chunks != nullptr) {
      for (const auto& chunk : chunks->children) {
        if (chunk->name != "dmrpp:chunk") continue;
        add_chunk(*chunk, path, shape, chunk_shape, checksum_bytes);
      }
    }
    result_.datasets.push_back({path, DatasetReport::Outcome::Referenced, ""});
  }

  void add_chunk(const XmlElement& chunk, const std::string& path, const std::vector<std::uint64_t>& shape,
                 const std::vector<std::uint64_t>& chunk_shape, std::uint64_t checksum_bytes) {
    const std::uint64_t offset = size_of(chunk, chunk.attribute("offset"));
    const std::uint64_t bytes = size_of(chunk, chunk.attribute("nBytes"));
    if (bytes < checksum_bytes) fail(chunk, "shorter than its fletcher32 checksum");
    std::vector<std::uint64_t> position(shape.size(), 0);
    const std::vector<std::string_view> coordinates = words(chunk.attribute("chunkPositionInArray"));
    if (!coordinates.empty() && coordinates.size() != shape.size()) {
      fail(chunk, "chunkPositionInArray of another rank than the array");
    }
    for (std::size_t d = 0; d < coordinates.size(); ++d) {
      const std::uint64_t element = size_of(chunk, coordinates[d]);
      if (element % chunk_shape[d] != 0 || element >= std::max<std::uint64_t>(shape[d], 1)) {
        fail(chunk, "chunkPositionInArray " + std::string(chunk.attribute("chunkPositionInArray")) +
                        " is no chunk's first element");
      }
      position[d] = element / chunk_shape[d];
    }
    std::string url = target_;
    if (const std::string_view href = chunk.attribute("href"); !href.empty() && href != dataset_href_) {
      url = chunk_target(href);
    }
    const std::string key = path + "/" + common::chunk_key(position);
    const std::uint64_t length = bytes - checksum_bytes;
    result_.references[key] = refstore::RangeReference{url, offset, length};
    ++result_.chunk_references;
  }

  std::string fill_json(const XmlElement& element, std::string_view value, const AtomicType& type) const {
    if (type.kind == 'f') {
      if (value == "nan" || value == "NaN") return "\"NaN\"";
      if (value == "inf" || value == "Infinity") return "\"Infinity\"";
      if (value == "-inf" || value == "-Infinity") return "\"-Infinity\"";
    }
    const std::string json = number_json(element, value, type);
    return json == "NaN" || json == "Infinity" || json == "-Infinity" ? "\"" + json + "\"" : json;
  }

  std::string phony_name(const std::string& dap_path, std::uint64_t size, int repeat) {
    // netCDF-C's names for dimensions without scales: one per size (and per repeat within one
    // variable), numbered in order of first use in the group.
    auto& known = phony_[dap_path];
    const auto key = std::make_pair(size, repeat);
    const auto found = known.find(key);
    if (found != known.end()) return found->second;
    return known.emplace(key, "phony_dim_" + std::to_string(known.size())).first->second;
  }

  static std::optional<std::string> child_text(const XmlElement& element, std::string_view name) {
    for (const auto& child : element.children) {
      if (child->name == name) return child->text;
    }
    return std::nullopt;
  }

  static std::string_view trimmed(std::string_view text) {
    const std::size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return {};
    return text.substr(start, text.find_last_not_of(" \t\r\n") + 1 - start);
  }

  const std::string& location_;
  const ScanOptions& options_;
  std::string dataset_href_;
  std::string target_;
  std::map<std::string, std::uint64_t> dimensions_;        // full DAP path → size
  std::map<std::string, const XmlElement*> enumerations_;  // full DAP path → declaration
  std::map<std::string, std::map<std::pair<std::uint64_t, int>, std::string>> phony_;
  ScanResult result_;
};

}  // namespace

bool is_dmrpp(std::string_view location) {
  const std::size_t end = std::min(location.find_first_of("?#"), location.size());
  return location.substr(0, end).ends_with(".dmrpp");
}

ScanResult scan_dmrpp(const std::string& location, std::string_view sidecar, const ScanOptions& options) {
  return DmrppScanner(location, options).run(sidecar);
}

}  // namespace kerchunkfs::scanner
