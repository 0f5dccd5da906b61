#include "scanner/combine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <variant>

#include "codec/codec.h"
#include "refstore/writer.h"
#include "scanner/cf_time.h"
#include "scanner/zarr_meta.h"
#include "sources/json_text.h"

namespace kerchunkfs::scanner {
namespace {

using refstore::json_quote;
using refstore::ReferenceMap;
using refstore::ReferenceValue;
using sources::json_object;

// Attributes that change what the stored numbers mean: they must agree wherever a variable is
// joined, except the packing ones, which an assembled array undoes.
const std::vector<std::string> kMeaningAttributes = {"scale_factor",  "add_offset", "_FillValue",
                                                     "missing_value", "units",      "calendar"};
const std::vector<std::string> kPackingAttributes = {"scale_factor", "add_offset", "_FillValue", "missing_value"};

struct Array {
  ArrayMeta meta;
  Attributes attributes;
  std::vector<std::string> dims;
};

// An input's place along one concatenation dimension: the key it is ordered by, and for a
// dimension the files have, its coordinate values (absolute seconds for CF times).
using OrderKey = std::variant<long double, std::string>;

struct Input {
  std::string name;
  ReferenceMap references;
  std::map<std::string, Array> arrays;
  std::set<std::string> groups;       // "" for the root, "g/" for a group g
  std::vector<std::uint64_t> extent;  // per concatenation dimension: 1 where it is new
  std::vector<OrderKey> key;
  std::vector<std::vector<long double>> coordinates;
  std::vector<std::string> time_units;  // the CF units text where the coordinate is a CF time
  std::vector<std::size_t> block;       // position among the distinct keys, per dimension
};

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

[[noreturn]] void fail(const std::string& message) { throw CombineError(message); }

std::string describe(const OrderKey& key) {
  if (const auto* number = std::get_if<long double>(&key)) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17Lg", *number);
    return text;
  }
  return "\"" + std::get<std::string>(key) + "\"";
}

void index_input(Input& input) {
  for (const auto& [key, value] : input.references) {
    const auto slash = key.rfind('/');
    const std::string leaf = slash == std::string::npos ? key : key.substr(slash + 1);
    const std::string prefix = slash == std::string::npos ? "" : key.substr(0, slash);
    if (leaf == ".zgroup") input.groups.insert(prefix.empty() ? "" : prefix + "/");
    if (leaf != ".zarray" || prefix.empty()) continue;
    const auto* text = std::get_if<std::string>(&value);
    if (text == nullptr) fail(input.name + ": " + key + ": metadata is a reference, not inline JSON");
    auto meta = ArrayMeta::parse(*text);
    if (!meta) fail(input.name + ": " + key + ": " + meta.error().message);
    Array array{std::move(meta).value(), {}, {}};
    if (const auto found = input.references.find(prefix + "/.zattrs"); found != input.references.end()) {
      const auto* attributes_text = std::get_if<std::string>(&found->second);
      if (attributes_text == nullptr) fail(input.name + ": " + prefix + "/.zattrs: not inline JSON");
      auto attributes = parse_attributes(*attributes_text);
      if (!attributes) fail(input.name + ": " + prefix + "/.zattrs: " + attributes.error().message);
      array.attributes = std::move(attributes).value();
    }
    auto dims = dimension_names(array.attributes);
    if (!dims || dims->size() != array.meta.shape.size()) {
      fail(input.name + ": " + prefix + ": no _ARRAY_DIMENSIONS naming each of its " +
           std::to_string(array.meta.shape.size()) + " dimensions");
    }
    array.dims = std::move(*dims);
    input.arrays.emplace(prefix, std::move(array));
  }
}

// The chunk keys of one array ("0.3" → {0, 3}) and their values.
std::vector<std::pair<std::vector<std::uint64_t>, const ReferenceValue*>> chunks_of(const Input& input,
                                                                                    const std::string& path) {
  std::vector<std::pair<std::vector<std::uint64_t>, const ReferenceValue*>> out;
  const std::string prefix = path + "/";
  for (auto it = input.references.lower_bound(prefix); it != input.references.end() && it->first.starts_with(prefix);
       ++it) {
    const std::string_view leaf = std::string_view(it->first).substr(prefix.size());
    if (leaf.empty() || leaf[0] == '.' || leaf.find('/') != std::string_view::npos) continue;
    std::vector<std::uint64_t> indices;
    std::size_t at = 0;
    while (at <= leaf.size()) {
      const std::size_t dot = std::min(leaf.find('.', at), leaf.size());
      indices.push_back(std::stoull(std::string(leaf.substr(at, dot - at))));
      at = dot + 1;
    }
    out.emplace_back(std::move(indices), &it->second);
  }
  return out;
}

// The numbers in a 1-D array, decoded.
std::vector<long double> read_values(const Input& input, const std::string& path, ReferenceReader& reader) {
  const Array& array = input.arrays.at(path);
  const std::uint64_t chunk = std::max<std::uint64_t>(array.meta.chunks.at(0), 1);
  const std::uint64_t count = common::ChunkGrid::of({array.meta.shape.data(), 1}, {&chunk, 1})->chunk_count();
  std::vector<std::string> chunks(count);
  const auto pipeline = codec::Pipeline::of(array.meta);
  if (!pipeline) fail(input.name + ": " + path + ": " + pipeline.error().message);
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto found = input.references.find(path + "/" + std::to_string(i));
    if (found == input.references.end())
      fail(input.name + ": " + path + ": chunk " + std::to_string(i) + " was never written");
    auto stored = reader.bytes(found->second);
    if (!stored) fail(input.name + ": " + path + ": " + stored.error().message);
    // Raw chunks are taken as they are (an inlined last chunk may be cut to the array's end).
    if (pipeline->empty()) {
      chunks[i] = std::move(stored).value();
      continue;
    }
    auto decoded = pipeline->decode(*stored);
    if (!decoded) fail(input.name + ": " + path + ": " + decoded.error().message);
    chunks[i] = std::move(decoded).value();
  }
  auto values = array_values(array.meta, chunks);
  if (!values) fail(input.name + ": " + path + ": " + values.error().message);
  return std::move(values).value();
}

std::optional<std::string> string_attribute(const Attributes& attributes, const std::string& name) {
  const auto found = attributes.find(name);
  return found == attributes.end() ? std::nullopt : json_string(found->second);
}

// The CF time encoding `units` (with the calendar among `attributes`) stand for; nothing when
// there are no units or they are not a CF time (then the values are plain numbers).
std::optional<CfTimeUnits> cf_time(const std::optional<std::string>& units, const Attributes& attributes) {
  if (!units) return std::nullopt;
  auto parsed = CfTimeUnits::parse(*units, string_attribute(attributes, "calendar").value_or(""));
  if (!parsed) return std::nullopt;
  return std::move(parsed).value();
}

// Fills in the input's extent, order key and coordinates along dimension `d`.
void place(Input& input, std::size_t index, std::size_t d, const ConcatDimension& dimension, ReferenceReader& reader) {
  std::optional<std::uint64_t> extent;
  for (const auto& [path, array] : input.arrays) {
    for (std::size_t axis = 0; axis < array.dims.size(); ++axis) {
      if (array.dims[axis] != dimension.name) continue;
      if (extent && *extent != array.meta.shape[axis]) {
        fail(input.name + ": " + path + " is " + std::to_string(array.meta.shape[axis]) + " long along " +
             dimension.name + ", other variables " + std::to_string(*extent));
      }
      extent = array.meta.shape[axis];
    }
  }
  input.extent[d] = extent.value_or(1);
  const auto coordinate = input.arrays.find(dimension.name);
  const bool has_coordinate = coordinate != input.arrays.end() && coordinate->second.dims.size() == 1;
  if (has_coordinate && extent) {
    std::vector<long double> values = read_values(input, dimension.name, reader);
    const Attributes& attributes = coordinate->second.attributes;
    const auto units = string_attribute(attributes, "units");
    const auto time = cf_time(units, attributes);
    if (time) {
      for (long double& value : values) value = time->to_absolute(value);
      input.time_units[d] = *units;
    }
    input.coordinates[d] = std::move(values);
  }
  switch (dimension.source.kind) {
    case CoordinateSource::Kind::Variable:
      if (!has_coordinate || input.coordinates[d].empty()) {
        fail(input.name + ": no coordinate values for " + dimension.name + " (give --coordinate " + dimension.name +
             "=attr:NAME, regex:PATTERN or index)");
      }
      input.key[d] = input.coordinates[d].front();
      break;
    case CoordinateSource::Kind::Attribute: {
      // "NAME": a global attribute; "VARIABLE:NAME": an attribute of that variable.
      const std::string& detail = dimension.source.detail;
      const auto colon = detail.rfind(':');
      const std::string owner = colon == std::string::npos ? "" : detail.substr(0, colon) + "/";
      const std::string name = colon == std::string::npos ? detail : detail.substr(colon + 1);
      const auto holder = input.references.find(owner + ".zattrs");
      const auto* text = holder == input.references.end() ? nullptr : std::get_if<std::string>(&holder->second);
      const auto attributes = text ? std::optional(parse_attributes(*text)) : std::nullopt;
      const auto found = attributes && *attributes ? (*attributes)->find(name) : Attributes::const_iterator{};
      if (!attributes || !*attributes || found == (*attributes)->end()) {
        fail(input.name + ": no " +
             (owner.empty() ? "global attribute " + name
                            : "attribute " + name + " of " + owner.substr(0, owner.size() - 1)) +
             " for " + dimension.name);
      }
      if (const auto text_value = json_string(found->second)) {
        input.key[d] = *text_value;
      } else {
        char* end = nullptr;
        const long double number = std::strtold(found->second.c_str(), &end);
        if (end == found->second.c_str() || *end != '\0') {
          fail(input.name + ": attribute " + detail + " is neither a number nor a string");
        }
        input.key[d] = number;
      }
      break;
    }
    case CoordinateSource::Kind::FileName: {
      std::smatch match;
      const std::string file = base_name(input.name);
      if (!std::regex_search(file, match, std::regex(dimension.source.detail))) {
        fail(input.name + ": the file name does not match " + dimension.source.detail + " (for " + dimension.name +
             ")");
      }
      const std::string text = match.size() > 1 ? match[1].str() : match[0].str();
      char* end = nullptr;
      const long double number = std::strtold(text.c_str(), &end);
      input.key[d] = !text.empty() && *end == '\0' ? OrderKey(number) : OrderKey(text);
      break;
    }
    case CoordinateSource::Kind::Index:
      input.key[d] = static_cast<long double>(index);
      break;
  }
}

// A dtype's bytes for `value` (the dtypes read_values reads).
void append_value(std::string& out, const std::string& dtype, long double value) {
  const char kind = dtype[1];
  const std::size_t size = std::stoul(dtype.substr(2));
  unsigned char raw[8] = {};
  if (kind == 'f' && size == 4) {
    const float f = static_cast<float>(value);
    std::memcpy(raw, &f, 4);
  } else if (kind == 'f') {
    const double v = static_cast<double>(value);
    std::memcpy(raw, &v, 8);
  } else if (kind == 'u') {
    const auto u = static_cast<std::uint64_t>(value);
    std::memcpy(raw, &u, 8);
  } else {
    const auto s = static_cast<std::int64_t>(value);
    std::memcpy(raw, &s, 8);
  }
  if (dtype[0] == '>') std::reverse(raw, raw + size);
  out.append(reinterpret_cast<const char*>(raw), size);
}

class Combiner {
 public:
  Combiner(std::vector<CombineInput> inputs, const std::vector<ConcatDimension>& dimensions, ReferenceReader& reader)
      : dimensions_(dimensions), reader_(reader) {
    if (inputs.empty()) fail("nothing to combine");
    if (dimensions.empty()) fail("no concatenation dimension given");
    for (auto& source : inputs) {
      Input input;
      input.name = std::move(source.name);
      input.references = std::move(source.references);
      input.extent.resize(dimensions.size());
      input.key.resize(dimensions.size());
      input.coordinates.resize(dimensions.size());
      input.time_units.resize(dimensions.size());
      input.block.resize(dimensions.size());
      index_input(input);
      inputs_.push_back(std::move(input));
    }
  }

  ReferenceMap run() {
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
      existing_.push_back(std::ranges::any_of(inputs_, [&](const Input& input) {
        return std::ranges::any_of(input.arrays, [&](const auto& entry) {
          return std::ranges::find(entry.second.dims, dimensions_[d].name) != entry.second.dims.end();
        });
      }));
      for (std::size_t i = 0; i < inputs_.size(); ++i) place(inputs_[i], i, d, dimensions_[d], reader_);
    }
    arrange();
    ReferenceMap out;
    write_groups(out);
    std::set<std::string> paths;
    for (const Input& input : inputs_) {
      for (const auto& [path, array] : input.arrays) paths.insert(path);
    }
    for (const std::string& path : paths) write_array(path, out);
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
      if (!existing_[d]) write_new_coordinate(d, out);
    }
    return out;
  }

 private:
  // Orders the inputs, gives each its block along every dimension, and the blocks their offsets.
  void arrange() {
    blocks_.resize(dimensions_.size());
    offsets_.resize(dimensions_.size());
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
      std::set<OrderKey> keys;
      for (const Input& input : inputs_) {
        if (input.key[d].index() != inputs_[0].key[d].index()) {
          fail(dimensions_[d].name + ": " + inputs_[0].name + " gives " + describe(inputs_[0].key[d]) + " but " +
               input.name + " gives " + describe(input.key[d]) + ": numbers and text do not mix");
        }
        keys.insert(input.key[d]);
      }
      blocks_[d].assign(keys.begin(), keys.end());
      std::vector<std::optional<std::uint64_t>> extents(blocks_[d].size());
      std::vector<const Input*> owner(blocks_[d].size(), nullptr);
      for (Input& input : inputs_) {
        const std::size_t block = std::ranges::lower_bound(blocks_[d], input.key[d]) - blocks_[d].begin();
        input.block[d] = block;
        if (extents[block] && *extents[block] != input.extent[d]) {
          fail(dimensions_[d].name + ": " + owner[block]->name + " and " + input.name + " sit at the same place (" +
               describe(input.key[d]) + ") but are " + std::to_string(*extents[block]) + " and " +
               std::to_string(input.extent[d]) + " long");
        }
        extents[block] = input.extent[d];
        owner[block] = &input;
      }
      std::uint64_t offset = 0;
      for (const auto& extent : extents) {
        offsets_[d].push_back(offset);
        offset += *extent;
      }
      totals_.push_back(offset);
    }
    std::ranges::sort(inputs_, {}, [](const Input& input) { return input.block; });
    for (std::size_t i = 1; i < inputs_.size(); ++i) {
      if (inputs_[i].block == inputs_[i - 1].block) {
        std::string where;
        for (std::size_t d = 0; d < dimensions_.size(); ++d) {
          where += (d ? ", " : "") + dimensions_[d].name + " " + describe(inputs_[i].key[d]);
        }
        fail(inputs_[i - 1].name + " and " + inputs_[i].name + " both hold " + where);
      }
    }
    check_coordinates_increase();
  }

  // Along a dimension the files have, inputs at the same place share their coordinate values,
  // and the values increase from one place to the next.
  void check_coordinates_increase() {
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
      if (!existing_[d]) continue;
      std::vector<const Input*> at_block(blocks_[d].size(), nullptr);
      for (const Input& input : inputs_) {
        const Input*& seen = at_block[input.block[d]];
        if (seen != nullptr && seen->coordinates[d] != input.coordinates[d]) {
          fail(dimensions_[d].name + ": " + seen->name + " and " + input.name +
               " sit at the same place but their coordinate values differ");
        }
        seen = &input;
      }
      for (std::size_t b = 1; b < at_block.size(); ++b) {
        const auto& before = at_block[b - 1]->coordinates[d];
        const auto& after = at_block[b]->coordinates[d];
        if (!before.empty() && !after.empty() && after.front() <= before.back()) {
          fail(dimensions_[d].name + ": " + at_block[b - 1]->name + " and " + at_block[b]->name +
               " overlap: their coordinate values repeat or go back");
        }
      }
    }
  }

  void write_groups(ReferenceMap& out) {
    for (const Input& input : inputs_) {
      for (const std::string& group : input.groups) {
        if (out.contains(group + ".zgroup")) continue;
        out[group + ".zgroup"] = "{\"zarr_format\": 2}";
        if (const auto found = input.references.find(group + ".zattrs"); found != input.references.end()) {
          out[group + ".zattrs"] = found->second;
        }
      }
    }
  }

  // A coordinate variable is a 1-D array named like its dimension.
  static bool is_coordinate(const std::string& path, const Array& array) {
    return array.dims.size() == 1 && array.dims[0] == base_name(path);
  }

  void write_array(const std::string& path, ReferenceMap& out) {
    std::vector<const Input*> holders;
    for (const Input& input : inputs_) {
      if (input.arrays.contains(path)) holders.push_back(&input);
    }
    const Input& first = *holders.front();
    const Array& reference = first.arrays.at(path);
    // Which concatenation dimensions this array is joined along: axes it has, or new leading axes.
    std::vector<std::optional<std::size_t>> axis(dimensions_.size());
    bool joined = false;
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
      const auto found = std::ranges::find(reference.dims, dimensions_[d].name);
      if (found != reference.dims.end()) axis[d] = static_cast<std::size_t>(found - reference.dims.begin());
      joined = joined || axis[d] || (!existing_[d] && !is_coordinate(path, reference));
    }
    std::string assemble;  // why the array can only be joined assembled (empty: it joins as is)
    for (const Input* input : holders) {
      std::string reason = check_agreement(path, first, *input, axis);
      if (assemble.empty()) assemble = std::move(reason);
    }
    if (!joined) {
      if (!assemble.empty()) fail(assemble);
      return write_identical(path, holders, out);
    }
    const auto dimension = std::ranges::find_if(dimensions_, [&](const ConcatDimension& c) { return c.name == path; });
    if (dimension != dimensions_.end() && is_coordinate(path, reference)) {
      return write_joined_coordinate(static_cast<std::size_t>(dimension - dimensions_.begin()), path, out);
    }
    if (holders.size() < inputs_.size() && reference.meta.fill_value == "null") {
      fail(path + ": missing from " + missing_from(path) + ", and without a fill value its absence cannot be read");
    }

    for (std::size_t d = 0; d < dimensions_.size() && assemble.empty(); ++d) {
      if (!axis[d]) continue;
      const std::uint64_t chunk = reference.meta.chunks[*axis[d]];
      for (const Input* input : holders) {
        const bool last_block = input->block[d] + 1 == blocks_[d].size();
        if (!last_block && input->extent[d] % chunk != 0) {
          assemble = input->name + ": " + path + ": its " + std::to_string(input->extent[d]) + " steps along " +
                     dimensions_[d].name + " do not fill whole chunks of " + std::to_string(chunk) +
                     ", so the files after it would not sit on the chunk grid";
          break;
        }
      }
    }
    if (!assemble.empty()) return write_assembled(path, holders, axis, assemble, out);

    ArrayMeta meta = reference.meta;
    std::vector<std::string> dims = reference.dims;
    std::vector<std::size_t> new_axes;  // dimensions that become leading axes, outermost first
    for (std::size_t d = 0; d < dimensions_.size(); ++d) {
      if (axis[d]) {
        meta.shape[*axis[d]] = totals_[d];
      } else if (!existing_[d]) {
        new_axes.push_back(d);
      }
    }
    for (auto d = new_axes.rbegin(); d != new_axes.rend(); ++d) {
      meta.shape.insert(meta.shape.begin(), blocks_[*d].size());
      meta.chunks.insert(meta.chunks.begin(), 1);
      dims.insert(dims.begin(), dimensions_[*d].name);
    }
    out[path + "/.zarray"] = meta.to_json();
    Attributes attributes = reference.attributes;
    std::string dims_json = "[";
    for (const std::string& name : dims) dims_json += (dims_json.size() > 1 ? ", " : "") + json_quote(name);
    attributes["_ARRAY_DIMENSIONS"] = dims_json + "]";
    out[path + "/.zattrs"] = json_object(attributes);
    for (const Input* input : holders) {
      for (auto& [indices, value] : chunks_of(*input, path)) {
        for (std::size_t d = 0; d < dimensions_.size(); ++d) {
          if (axis[d]) indices[*axis[d]] += offsets_[d][input->block[d]] / reference.meta.chunks[*axis[d]];
        }
        for (auto d = new_axes.rbegin(); d != new_axes.rend(); ++d) indices.insert(indices.begin(), input->block[*d]);
        out[path + "/" + common::chunk_key(indices)] = *value;
      }
    }
  }

  // An array joined from files whose chunk grids or packing differ: see combine.h. `why` says
  // what differs, for the message when even an assembled array cannot join them.
  void write_assembled(const std::string& path, const std::vector<const Input*>& holders,
                       const std::vector<std::optional<std::size_t>>& axis, const std::string& why, ReferenceMap& out) {
    const auto refuse = [&](const std::string& what) {
      fail(why + " (kerchunkfs assembles such files into one array only " + what + ")");
    };
    if (dimensions_.size() != 1 || !axis[0]) refuse("along one concatenation dimension that the array has");
    if (holders.size() != inputs_.size()) refuse("when every file holds it; " + missing_from(path) + " does not");
    const std::size_t d = 0;
    const std::size_t a = *axis[0];
    const Array& first = holders.front()->arrays.at(path);
    // Unpacked when anything about the stored numbers differs; otherwise parts are only re-gridded.
    bool unpack = false;
    std::vector<std::string> unpacked;
    for (const Input* input : holders) {
      const Array& part = input->arrays.at(path);
      if (part.meta.order != "\"C\"") refuse("in C order");
      for (const std::string& name : kPackingAttributes) {
        const auto x = first.attributes.find(name), y = part.attributes.find(name);
        const bool same = (x == first.attributes.end()) == (y == part.attributes.end()) &&
                          (x == first.attributes.end() || x->second == y->second);
        unpack = unpack || !same;
      }
      unpack = unpack || part.meta.dtype != first.meta.dtype || part.meta.fill_value != first.meta.fill_value;
    }
    for (const Input* input : holders) {
      if (!unpack) break;
      const Array& part = input->arrays.at(path);
      auto packing = codec::Packing::of_attributes(json_object(part.attributes), part.meta.fill_value);
      if (!packing) fail(input->name + ": " + path + ": " + packing.error().message);
      auto dtype = codec::ElementConverter::unpacked_dtype(part.meta.dtype, *packing);
      if (!dtype) refuse("of integer or float numbers to unpack: " + dtype.error().message);
      unpacked.push_back(std::move(dtype).value());
    }
    ArrayMeta meta = first.meta;
    meta.shape[a] = totals_[d];
    std::uint64_t chunk = dimensions_[d].assembled_chunk;
    if (chunk == 0) {
      chunk = meta.shape[a];
      for (const Input* input : holders) chunk = std::min(chunk, input->arrays.at(path).meta.chunks[a]);
    }
    meta.chunks[a] = std::max<std::uint64_t>(chunk, 1);
    Attributes attributes = first.attributes;
    if (unpack) {
      auto dtype = codec::common_dtype(unpacked);
      if (!dtype) refuse("of integer or float numbers to unpack: " + dtype.error().message);
      meta.dtype = std::move(dtype).value();
      if (meta.dtype[2] == 'f') meta.fill_value = "\"NaN\"";
      for (const std::string& name : kPackingAttributes) attributes.erase(name);
    }
    std::string parts;
    for (std::size_t i = 0; i < holders.size(); ++i) {
      const Input& input = *holders[i];
      const Array& part = input.arrays.at(path);
      const std::string key = ".kerchunkfs/" + std::to_string(i);
      parts += (i ? ", " : "") + std::string("{\"key\": ") + json_quote(key) +
               ", \"length\": " + std::to_string(input.extent[d]) +
               ", \"offset\": " + std::to_string(offsets_[d][input.block[d]]) + "}";
      out[path + "/" + key + "/.zarray"] = part.meta.to_json();
      out[path + "/" + key + "/.zattrs"] = json_object(part.attributes);
      for (auto& [indices, value] : chunks_of(input, path))
        out[path + "/" + key + "/" + common::chunk_key(indices)] = *value;
    }
    meta.compressor = std::string("{\"axis\": ") + std::to_string(a) + ", \"id\": " + json_quote(kAssembledCodec) +
                      ", \"parts\": [" + parts + "], \"unpack\": " + (unpack ? "true" : "false") + "}";
    meta.filters = "null";
    out[path + "/.zarray"] = meta.to_json();
    out[path + "/.zattrs"] = json_object(attributes);
  }

  std::string missing_from(const std::string& path) const {
    for (const Input& input : inputs_) {
      if (!input.arrays.contains(path)) return input.name;
    }
    return "";
  }

  // What must agree between two inputs' copies of an array for them to be joined. Differences an
  // assembled array can join (chunk shape, dtype, fill value, codecs, packing) are returned, as
  // what differs, rather than refused; the others are refused.
  std::string check_agreement(const std::string& path, const Input& first, const Input& other,
                              const std::vector<std::optional<std::size_t>>& axis) const {
    const Array& a = first.arrays.at(path);
    const Array& b = other.arrays.at(path);
    const auto differs = [&](const std::string& what) {
      return path + ": " + what + " differs between " + first.name + " and " + other.name;
    };
    if (a.dims != b.dims) fail(differs("its dimensions"));
    std::string assemble;
    // A concatenation coordinate is rewritten from its values: only what they mean must agree.
    const bool concat_coordinate =
        std::ranges::any_of(dimensions_, [&](const ConcatDimension& c) { return c.name == path; });
    if (!concat_coordinate && !a.meta.same_encoding(b.meta)) {
      if (a.meta.order != b.meta.order) fail(differs("its order"));
      assemble = differs(a.meta.chunks != b.meta.chunks           ? "its chunk shape"
                         : a.meta.dtype != b.meta.dtype           ? "its dtype"
                         : a.meta.fill_value != b.meta.fill_value ? "its fill value"
                                                                  : "its codecs");
    }
    for (std::size_t i = 0; i < a.meta.shape.size(); ++i) {
      const bool along_concat = std::ranges::any_of(axis, [&](const auto& x) { return x && *x == i; });
      if (!along_concat && a.meta.shape[i] != b.meta.shape[i]) fail(differs("its extent along " + a.dims[i]));
    }
    for (const std::string& name : kMeaningAttributes) {
      if (concat_coordinate && name == "units") continue;  // CF times are re-encoded to one unit
      const auto x = a.attributes.find(name), y = b.attributes.find(name);
      const bool same =
          (x == a.attributes.end()) == (y == b.attributes.end()) && (x == a.attributes.end() || x->second == y->second);
      if (same) continue;
      const bool packing = std::ranges::find(kPackingAttributes, name) != kPackingAttributes.end();
      if (!packing || concat_coordinate) fail(differs("attribute " + name));
      if (assemble.empty()) assemble = differs("attribute " + name);
    }
    return assemble;
  }

  // An array not joined along anything (lat, lon): every input must hold the same bytes.
  void write_identical(const std::string& path, const std::vector<const Input*>& holders, ReferenceMap& out) {
    const Input& first = *holders.front();
    const auto expected = chunks_of(first, path);
    std::vector<std::string> expected_bytes(expected.size());
    for (std::size_t c = 0; c < expected.size(); ++c) {
      auto bytes = reader_.bytes(*expected[c].second);
      if (!bytes) fail(first.name + ": " + path + ": " + bytes.error().message);
      expected_bytes[c] = std::move(bytes).value();
    }
    for (const Input* input : holders) {
      if (input == &first) continue;
      const auto chunks = chunks_of(*input, path);
      bool same = chunks.size() == expected.size();
      for (std::size_t c = 0; same && c < chunks.size(); ++c) {
        const auto bytes = reader_.bytes(*chunks[c].second);
        if (!bytes) fail(input->name + ": " + path + ": " + bytes.error().message);
        same = chunks[c].first == expected[c].first && *bytes == expected_bytes[c];
      }
      if (!same) {
        fail(path + ": its values differ between " + first.name + " and " + input->name +
             " (it has none of the concatenation dimensions, so it must be the same in every file)");
      }
    }
    for (auto it = first.references.lower_bound(path + "/");
         it != first.references.end() && it->first.starts_with(path + "/"); ++it) {
      out[it->first] = it->second;
    }
  }

  // The joined coordinate variable of a dimension the files have: its values, one chunk, inlined;
  // CF times in the units of the first file.
  void write_joined_coordinate(std::size_t d, const std::string& path, ReferenceMap& out) {
    const Input& first = inputs_.front();
    const Array& reference = first.arrays.at(path);
    const std::string units = first.time_units[d];
    const auto time = cf_time(units.empty() ? std::nullopt : std::optional(units), reference.attributes);
    // One input per place along the dimension: the others there share its values (checked).
    std::vector<const Input*> at_block(blocks_[d].size(), nullptr);
    for (const Input& input : inputs_) {
      if (at_block[input.block[d]] == nullptr) at_block[input.block[d]] = &input;
    }
    std::vector<long double> values;
    for (const Input* holder : at_block) {
      const Input& input = *holder;
      if (input.time_units[d].empty() != units.empty()) {
        fail(path + ": " + first.name + " and " + input.name + " disagree on whether it is a CF time");
      }
      if (input.coordinates[d].size() != input.extent[d])
        fail(input.name + ": has no " + path + " coordinate variable");
      for (const long double value : input.coordinates[d]) values.push_back(time ? time->from_absolute(value) : value);
    }
    ArrayMeta meta = reference.meta;
    std::string dtype = *json_string(meta.dtype);
    const bool integral = dtype[1] != 'f';
    for (long double& value : values) {
      const long double rounded = std::round(value);
      if (std::fabs(value - rounded) <= 1e-6L * std::max(1.0L, std::fabs(value)))
        value = rounded;
      else if (integral)
        dtype = "<f8";  // a unit change made whole numbers fractional
    }
    meta.dtype = json_quote(dtype);
    meta.shape = {values.size()};
    meta.chunks = {std::max<std::uint64_t>(values.size(), 1)};
    meta.compressor = meta.filters = "null";
    std::string bytes;
    for (const long double value : values) append_value(bytes, dtype, value);
    out[path + "/.zarray"] = meta.to_json();
    Attributes attributes = reference.attributes;
    if (time) attributes["units"] = json_quote(units);
    out[path + "/.zattrs"] = json_object(attributes);
    out[path + "/0"] = std::move(bytes);
  }

  // A dimension the files do not have gets a coordinate variable holding the inputs' keys.
  void write_new_coordinate(std::size_t d, ReferenceMap& out) {
    const std::string& name = dimensions_[d].name;
    if (out.contains(name + "/.zarray")) return;
    const auto& keys = blocks_[d];
    std::string dtype, bytes;
    if (std::holds_alternative<long double>(keys.front())) {
      const bool integral = std::ranges::all_of(
          keys, [](const OrderKey& k) { return std::get<long double>(k) == std::round(std::get<long double>(k)); });
      dtype = integral ? "<i8" : "<f8";
      for (const OrderKey& key : keys) append_value(bytes, dtype, std::get<long double>(key));
    } else {
      std::size_t longest = 1;
      for (const OrderKey& key : keys) longest = std::max(longest, std::get<std::string>(key).size());
      dtype = "|S" + std::to_string(longest);
      for (const OrderKey& key : keys) {
        std::string text = std::get<std::string>(key);
        text.resize(longest, '\0');
        bytes += text;
      }
    }
    ArrayMeta meta;
    meta.shape = {keys.size()};
    meta.chunks = {keys.size()};
    meta.dtype = json_quote(dtype);
    meta.compressor = meta.filters = meta.fill_value = "null";
    out[name + "/.zarray"] = meta.to_json();
    out[name + "/.zattrs"] = "{\"_ARRAY_DIMENSIONS\": [" + json_quote(name) + "]}";
    out[name + "/0"] = std::move(bytes);
  }

  std::vector<ConcatDimension> dimensions_;
  ReferenceReader& reader_;
  std::vector<Input> inputs_;
  std::vector<bool> existing_;                       // per dimension: whether the files have it
  std::vector<std::vector<OrderKey>> blocks_;        // per dimension: the distinct keys, in order
  std::vector<std::vector<std::uint64_t>> offsets_;  // per dimension and block: where it starts
  std::vector<std::uint64_t> totals_;
};

}  // namespace

ReferenceMap combine(std::vector<CombineInput> inputs, const std::vector<ConcatDimension>& dimensions,
                     ReferenceReader& reader) {
  return Combiner(std::move(inputs), dimensions, reader).run();
}

}  // namespace kerchunkfs::scanner
