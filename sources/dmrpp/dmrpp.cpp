#include "sources/dmrpp/dmrpp.h"

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
#include "sources/dmrpp/dap_types.h"
#include "sources/dmrpp/dmrpp_structure.h"
#include "sources/dmrpp/xml_tree.h"
#include "sources/json_text.h"
#include "sources/scan_error.h"

namespace kerchunkfs::sources {
namespace {

using refstore::json_quote;

// Variables DAP4 has that no zarr array can be made of from the sidecar.
const std::set<std::string_view> kRefusedTypes = {"URL", "Sequence", "Opaque"};

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
      } else if (child->name == "Enum" || child->name == "String" || child->name == "Structure" ||
                 atomic_type(child->name) != nullptr) {
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

  // Where a variable's values are: its chunks, or the whole array in the sidecar.
  struct Storage {
    const XmlElement* chunks = nullptr;
    const XmlElement* compact = nullptr;
    const XmlElement* missing = nullptr;
    const XmlElement* special = nullptr;  // a compound's records with their strings
    std::string_view order;               // byteOrder of the chunks or compact data
  };

  static Storage storage_of(const XmlElement& variable, std::string_view assumed_order) {
    Storage storage;
    for (const auto& child : variable.children) {
      if (child->name == "dmrpp:chunks") storage.chunks = child.get();
      // Older sidecars put the chunks right inside the variable.
      if (child->name == "dmrpp:chunk" && storage.chunks == nullptr) storage.chunks = &variable;
      if (child->name == "dmrpp:compact") storage.compact = child.get();
      if (child->name == "dmrpp:missingdata") storage.missing = child.get();
      if (child->name == "dmrpp:specialstructuredata") storage.special = child.get();
    }
    if (storage.chunks != nullptr) {
      storage.order = storage.chunks->attribute("byteOrder");
      if (storage.order.empty()) storage.order = storage.chunks->attribute("byteOrde");  // as some sidecars spell it
    }
    if (storage.order.empty()) storage.order = assumed_order;
    return storage;
  }

  // A variable's (or a member's) Dim children: its shape, and the names of its dimensions.
  std::pair<std::vector<std::uint64_t>, std::vector<std::string>> dims_of(const XmlElement& variable,
                                                                          const std::string& dap_path) {
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
    return {std::move(shape), std::move(names)};
  }

  // What one element of an array is in zarr.
  struct Element {
    std::string dtype;          // JSON
    std::uint64_t size = 0;     // bytes
    std::string fill = "null";  // JSON
    bool structure = false;     // a packed compound: a size that disagrees means gaps, not damage
    std::string records;        // a compound's records the sidecar holds itself (specialstructuredata)
  };

  void add_variable(const XmlElement& variable, const std::string& path, const std::string& dap_path) {
    std::map<std::string, std::string> attributes = attributes_of(variable);
    auto [shape, names] = dims_of(variable, dap_path);
    attributes["_ARRAY_DIMENSIONS"] = json_names(names);
    const Storage storage = storage_of(variable, options_.dmrpp_byte_order);
    std::uint64_t elements = 1;
    for (const std::uint64_t extent : shape) elements *= extent;

    std::optional<Element> element;
    if (variable.name == "String") {
      // Fixed-length strings and variable-length ones (heap references) look alike in chunks; a
      // compact scalar holds the string itself.
      if (storage.compact == nullptr || !shape.empty()) {
        return refuse(path,
                      "String variables need the granule itself: the sidecar does not say whether "
                      "their chunks hold fixed-length strings or references to variable-length ones");
      }
      std::string text = compact_bytes(*storage.compact);
      const Element string{"\"|S" + std::to_string(std::max<std::size_t>(text.size(), 1)) + "\"", 0, "null", false, {}};
      text.resize(std::max<std::size_t>(text.size(), 1), '\0');
      put_zarray(path, attributes, shape, shape, string, "null");
      put(path + "/" + common::chunk_key({}), std::move(text));
      result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
      return;
    } else if (variable.name == "Structure") {
      element = structure_element(variable, path, dap_path, storage, elements);
      if (!element) return;  // refused
      if (storage.special != nullptr) {
        put_zarray(path, attributes, shape, shape, *element, "null");
        put(path + "/" + common::chunk_key(std::vector<std::uint64_t>(shape.size(), 0)), std::move(element->records));
        result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
        return;
      }
    } else {
      element = number_element(variable, dap_path, storage, attributes);
      if (!element)
        return refuse(path, "the sidecar does not say the byte order of its " + std::string(variable.name) +
                                " values (see --dmrpp-byte-order)");
    }

    std::vector<std::uint64_t> chunk_shape = shape;
    std::string filters = "null";
    std::uint64_t checksum_bytes = 0;
    if (storage.chunks != nullptr) {
      if (const auto sizes = child_text(*storage.chunks, "dmrpp:chunkDimensionSizes")) {
        chunk_shape.clear();
        for (const std::string_view word : words(*sizes)) chunk_shape.push_back(size_of(*storage.chunks, word));
        if (chunk_shape.size() != shape.size())
          fail(*storage.chunks, "chunkDimensionSizes of another rank than the array");
      }
      const std::vector<std::string_view> chain = words(storage.chunks->attribute("compressionType"));
      std::string_view level = storage.chunks->attribute("deflateLevel");
      if (level.empty()) level = storage.chunks->attribute("deflate_level");
      std::vector<std::string> codecs;
      for (std::size_t i = 0; i < chain.size(); ++i) {
        if (chain[i] == "deflate") {
          codecs.push_back("{\"id\": \"zlib\", \"level\": " + std::string(level.empty() ? "6" : level) + "}");
        } else if (chain[i] == "shuffle") {
          codecs.push_back("{\"elementsize\": " + std::to_string(element->size) + ", \"id\": \"shuffle\"}");
        } else if (chain[i] == "fletcher32" && i + 1 == chain.size()) {
          checksum_bytes = 4;  // appended last, after the other filters: outside the codecs' bytes
        } else if (chain[i] == "fletcher32") {
          // Before other filters its checksum is inside their bytes: numcodecs' fletcher32 codec
          // (0.12 and later; kerchunkfs -o decode) checks and drops it there, older readers refuse.
          codecs.emplace_back("{\"id\": \"fletcher32\"}");
        } else {
          return refuse(path, "the filter \"" + std::string(chain[i]) + "\" has no zarr codec here");
        }
      }
      if (!codecs.empty()) {  // in the order they were applied, as the HDF5 scanner writes them
        filters = "[";
        for (std::size_t i = 0; i < codecs.size(); ++i) filters += (i ? ", " : "") + codecs[i];
        filters += "]";
      }
      if (element->structure &&
          !structure_chunks_fit(*storage.chunks, path, chunk_shape, element->size, !codecs.empty(), checksum_bytes)) {
        return;  // refused
      }
    }
    for (std::uint64_t& extent : chunk_shape) extent = std::max<std::uint64_t>(extent, 1);

    if (storage.compact != nullptr || storage.missing != nullptr) {
      // The whole array's bytes in the sidecar: base64 (missing data zlib-compressed as well).
      const XmlElement& holder = storage.compact != nullptr ? *storage.compact : *storage.missing;
      const std::uint64_t expected = element->size * elements;
      std::string data = compact_bytes(holder);
      if (storage.compact == nullptr) {
        auto expanded = refstore::decompress(data, refstore::Compression::Gzip, location_, expected);
        if (!expanded) fail(holder, expanded.error().message);
        data = std::move(*expanded);
      }
      if (data.size() != expected && element->structure) {
        return refuse(path, "its members have gaps (" + std::to_string(data.size()) + " bytes of records, " +
                                std::to_string(expected) + " packed) that a zarr record cannot describe");
      }
      if (data.size() != expected) {
        fail(holder, std::to_string(data.size()) + " bytes for an array of " + std::to_string(expected));
      }
      put_zarray(path, attributes, shape, chunk_shape, *element, filters);
      put(path + "/" + common::chunk_key(std::vector<std::uint64_t>(shape.size(), 0)), std::move(data));
      result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
      return;
    }
    put_zarray(path, attributes, shape, chunk_shape, *element, filters);
    if (storage.chunks != nullptr) {
      for (const auto& chunk : storage.chunks->children) {
        if (chunk->name != "dmrpp:chunk") continue;
        add_chunk(*chunk, path, shape, chunk_shape, checksum_bytes);
      }
    }
    result_.datasets.push_back({path, DatasetReport::Outcome::Referenced, ""});
  }

  std::string compact_bytes(const XmlElement& holder) const {
    std::string data;
    if (!refstore::base64_decode_append(trimmed(holder.text), data)) fail(holder, "not base64");
    return data;
  }

  void put_zarray(const std::string& path, const std::map<std::string, std::string>& attributes,
                  const std::vector<std::uint64_t>& shape, const std::vector<std::uint64_t>& chunk_shape,
                  const Element& element, const std::string& filters) {
    std::vector<std::uint64_t> chunks = chunk_shape;
    for (std::uint64_t& extent : chunks) extent = std::max<std::uint64_t>(extent, 1);
    put(path + "/.zattrs", json_object(attributes));
    put(path + "/.zarray", "{\"chunks\": " + json_list(chunks) + ", \"compressor\": null" + ", \"dtype\": " +
                               element.dtype + ", \"fill_value\": " + element.fill + ", \"filters\": " + filters +
                               ", \"order\": \"C\", \"shape\": " + json_list(shape) + ", \"zarr_format\": 2}");
  }

  // An atomic or Enum variable's element; nothing when the byte order its chunks need is not given.
  std::optional<Element> number_element(const XmlElement& variable, const std::string& dap_path, const Storage& storage,
                                        std::map<std::string, std::string>& attributes) {
    const AtomicType* type = atomic_type(variable.name);
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
    if (storage.order.empty() && type->size > 1 && (storage.chunks != nullptr || storage.compact != nullptr)) {
      return std::nullopt;
    }
    const char endian = type->size == 1 ? '|' : storage.order == "BE" ? '>' : '<';
    Element element;
    element.dtype = boolean ? "\"|b1\"" : std::string("\"") + endian + type->kind + std::to_string(type->size) + "\"";
    element.size = static_cast<std::uint64_t>(type->size);
    element.fill = "0";  // HDF5's default fill
    if (storage.chunks != nullptr) {
      if (const std::string_view value = storage.chunks->attribute("fillValue"); !value.empty()) {
        element.fill = type->kind == 'S' ? "null" : fill_json(*storage.chunks, value, *type);
      }
    }
    return element;
  }

  // A compound's element: its members packed, as zarr describes records; nothing when refused.
  // With dmrpp:specialstructuredata, its records decoded from the sidecar come with it.
  std::optional<Element> structure_element(const XmlElement& structure, const std::string& path,
                                           const std::string& dap_path, const Storage& storage, std::uint64_t records) {
    std::vector<StructureMember> members;
    bool strings = false, wide = false;
    for (const auto& child : structure.children) {
      if (child->name == "Dim" || child->name == "Attribute" || child->name.starts_with("dmrpp:")) continue;
      const AtomicType* type = atomic_type(child->name);
      if (type == nullptr && child->name != "String") {
        refuse(path, "its member " + std::string(child->attribute("name")) + " is a " + child->name +
                         ", which a zarr record cannot hold here");
        return std::nullopt;
      }
      strings = strings || type == nullptr;
      wide = wide || (type != nullptr && type->size > 1);
      members.push_back({std::string(child->attribute("name")), type, dims_of(*child, dap_path).first, 0});
    }
    if (members.empty()) {
      refuse(path, "a Structure without members");
      return std::nullopt;
    }
    Element element;
    element.structure = true;
    if (storage.special != nullptr) {
      // build_dmrpp wrote these records from memory: numbers in its machine's (little-endian) order.
      auto values = special_structure_values(compact_bytes(*storage.special), records, members);
      if (!values) fail(*storage.special, values.error().message);
      element.size = packed_size(members);
      if (element.size != 0 && records > options_.inline_unsupported / element.size) {
        refuse(path, "its string members make " + std::to_string(records) + " records of " +
                         std::to_string(element.size) + " bytes, more than --inline-unsupported (" +
                         std::to_string(options_.inline_unsupported) + " bytes)");
        return std::nullopt;
      }
      element.records = packed_records(std::move(*values), members, records);
      element.dtype = structure_dtype(members, '<');
      return element;
    }
    if (strings) {
      refuse(path,
             "its string members are stored as the granule's references to them "
             "(the sidecar has no dmrpp:specialstructuredata)");
      return std::nullopt;
    }
    if (storage.order.empty() && wide && (storage.chunks != nullptr || storage.compact != nullptr)) {
      refuse(path, "the sidecar does not say the byte order of its Structure values (see --dmrpp-byte-order)");
      return std::nullopt;
    }
    element.size = packed_size(members);
    element.dtype = structure_dtype(members, storage.order == "BE" ? '>' : '<');
    if (storage.chunks != nullptr) {
      if (const std::string_view offsets = storage.chunks->attribute("structOffset"); !offsets.empty()) {
        std::vector<std::uint64_t> ends;
        for (const std::string_view word : words(offsets)) ends.push_back(size_of(*storage.chunks, word));
        if (!offsets_are_packed(members, ends)) {
          refuse(path, "its members have gaps (structOffset \"" + std::string(offsets) +
                           "\") that a zarr record cannot describe");
          return std::nullopt;
        }
      }
      const std::string_view fill = storage.chunks->attribute("fillValue");
      if (fill.empty() || fill == "0")
        element.fill = json_quote(refstore::base64_encode(std::string(element.size, '\0')));
    }
    return element;
  }

  // Without structOffset, a compound's chunks show its layout only by their size: uncompressed
  // chunks of exactly the packed records. Refuses (and says false) otherwise.
  bool structure_chunks_fit(const XmlElement& chunks, const std::string& path,
                            const std::vector<std::uint64_t>& chunk_shape, std::uint64_t record_bytes, bool filtered,
                            std::uint64_t checksum_bytes) {
    if (!chunks.attribute("structOffset").empty()) return true;
    if (filtered) {
      refuse(path,
             "the sidecar gives no member offsets (structOffset) for its filtered records, "
             "so gaps between members cannot be ruled out");
      return false;
    }
    std::uint64_t expected = record_bytes;
    for (const std::uint64_t extent : chunk_shape) expected *= std::max<std::uint64_t>(extent, 1);
    for (const auto& chunk : chunks.children) {
      if (chunk->name != "dmrpp:chunk") continue;
      const std::uint64_t bytes = size_of(*chunk, chunk->attribute("nBytes"));
      if (bytes != expected + checksum_bytes) {
        refuse(path, "its members have gaps (chunks of " + std::to_string(bytes - checksum_bytes) + " bytes, " +
                         std::to_string(expected) + " packed) that a zarr record cannot describe");
        return false;
      }
    }
    return true;
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

bool is_dmrpp(std::string_view location, FileBytes& /*bytes*/) {
  const std::size_t end = std::min(location.find_first_of("?#"), location.size());
  return location.substr(0, end).ends_with(kDmrppSuffix);
}

common::Result<ScanResult> scan_dmrpp_text(const std::string& location, std::string_view sidecar,
                                           const ScanOptions& options) {
  try {
    return DmrppScanner(location, options).run(sidecar);
  } catch (const ScanError& error) {
    return common::Error{error.what()};
  }
}

common::Result<ScanResult> scan_dmrpp(const std::string& location, FileBytes& bytes, const ScanOptions& options) {
  // Read whole: sidecars run to megabytes for granules of many chunks.
  constexpr std::uint64_t kMostSidecarBytes = 1ull << 30;
  if (bytes.size() > kMostSidecarBytes) return common::Error{location + ": larger than a DMR++ sidecar may be (1 GiB)"};
  std::string text(bytes.size(), '\0');
  if (!bytes.read(0, text.size(), text.data())) return common::Error{location + ": cannot be read"};
  return scan_dmrpp_text(location, text, options);
}

}  // namespace kerchunkfs::sources
