#include "sources/netcdf3/netcdf3.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "common/zarr_array.h"
#include "refstore/base64.h"
#include "refstore/writer.h"
#include "sources/contiguous_layout.h"
#include "sources/json_text.h"
#include "sources/scan_error.h"

namespace kerchunkfs::sources {
namespace {

using refstore::json_quote;

// The netCDF classic format's header tags and types (the format's specification, "NetCDF Classic
// and 64-bit Offset Format", and CDF-5's additions).
constexpr std::uint32_t kDimensionTag = 0x0A, kVariableTag = 0x0B, kAttributeTag = 0x0C;
constexpr std::uint64_t kStreaming = 0xFFFFFFFFu;
enum NcType : std::uint32_t {
  kByte = 1,
  kChar,
  kShort,
  kInt,
  kFloat,
  kDouble,
  kUbyte,
  kUshort,
  kUint,
  kInt64,
  kUint64
};

struct TypeInfo {
  const char* dtype;  // zarr's, big-endian as stored
  std::uint64_t size;
  // netCDF's NC_FILL_* for the type, as JSON: what readers that mask (netCDF4-python) treat as
  // missing when there is no _FillValue (none for chars).
  const char* default_fill;
};

const TypeInfo* type_info(std::uint32_t type) {
  static constexpr std::array<TypeInfo, 11> kTypes = {{
      {"\"|i1\"", 1, "-127"},
      {"\"|S1\"", 1, "null"},
      {"\">i2\"", 2, "-32767"},
      {"\">i4\"", 4, "-2147483647"},
      {"\">f4\"", 4, "9.969209968386869e+36"},
      {"\">f8\"", 8, "9.969209968386869e+36"},
      {"\"|u1\"", 1, "255"},
      {"\">u2\"", 2, "65535"},
      {"\">u4\"", 4, "4294967295"},
      {"\">i8\"", 8, "-9223372036854775806"},
      {"\">u8\"", 8, "18446744073709551614"},
  }};
  return type >= kByte && type <= kUint64 ? &kTypes[type - 1] : nullptr;
}

struct Attribute {
  std::string name;
  std::uint32_t type = 0;
  std::uint64_t count = 0;
  std::string values;  // big-endian, unpadded
};

struct Dimension {
  std::string name;
  std::uint64_t length = 0;  // 0: the record dimension
};

struct Variable {
  std::string name;
  std::vector<std::uint64_t> dimensions;  // indices into the dimension list
  std::vector<Attribute> attributes;
  std::uint32_t type = 0;
  std::uint64_t vsize = 0;
  std::uint64_t begin = 0;
};

struct Header {
  int version = 1;
  std::uint64_t records = 0;
  bool streaming = false;
  std::vector<Dimension> dimensions;
  std::vector<Attribute> attributes;
  std::vector<Variable> variables;
};

// Reads the header front to back, a window at a time; every count is checked against the bytes
// the file has left before anything is made of it.
class HeaderReader {
 public:
  HeaderReader(const std::string& location, FileBytes& bytes) : location_(location), bytes_(bytes) {}

  Header read() {
    Header header;
    const std::string magic = take(4);
    header.version = static_cast<unsigned char>(magic[3]);
    const bool wide = header.version == 5;  // CDF-5: 64-bit counts and sizes
    const bool wide_offsets = header.version != 1;
    const std::uint64_t records = wide ? number(8) : number(4);
    header.streaming = !wide && records == kStreaming;
    header.records = header.streaming ? 0 : records;
    const auto count = [&] { return wide ? number(8) : number(4); };

    std::uint64_t listed = list_count(kDimensionTag, "dimension", count);
    bool record_dimension = false;
    for (std::uint64_t i = 0; i < listed; ++i) {
      Dimension dimension{name(count), count()};
      if (dimension.length == 0 && std::exchange(record_dimension, true)) fail("a second record dimension");
      header.dimensions.push_back(std::move(dimension));
    }
    header.attributes = attributes(count);
    listed = list_count(kVariableTag, "variable", count);
    for (std::uint64_t i = 0; i < listed; ++i) {
      Variable variable;
      variable.name = name(count);
      const std::uint64_t where = at_;
      const std::uint64_t rank = checked_count(count(), wide ? 8 : 4, "dimension ids of " + variable.name, where);
      for (std::uint64_t d = 0; d < rank; ++d) {
        const std::uint64_t id = count();
        if (id >= header.dimensions.size()) {
          fail("variable " + variable.name + " names dimension id " + std::to_string(id) + " of " +
               std::to_string(header.dimensions.size()));
        }
        if (header.dimensions[id].length == 0 && d > 0) {
          fail("variable " + variable.name + " has the record dimension other than first");
        }
        variable.dimensions.push_back(id);
      }
      variable.attributes = attributes(count);
      variable.type = static_cast<std::uint32_t>(number(4));
      if (type_info(variable.type) == nullptr || (!wide && variable.type > kDouble)) {
        fail("variable " + variable.name + " has type " + std::to_string(variable.type) + ", not a netCDF type");
      }
      variable.vsize = count();
      variable.begin = wide_offsets ? number(8) : number(4);
      header.variables.push_back(std::move(variable));
    }
    return header;
  }

 private:
  // At byte `position` of the header (by default: where reading got to).
  [[noreturn]] void fail(const std::string& what, std::uint64_t position) const {
    throw ScanError(location_ + ": netCDF header byte " + std::to_string(position) + ": " + what);
  }
  [[noreturn]] void fail(const std::string& what) const { fail(what, at_); }

  std::string take(std::uint64_t length) {
    if (length > bytes_.size() || at_ > bytes_.size() - length) fail("the file ends inside the header");
    std::string out(length, '\0');
    if (!bytes_.read(at_, length, out.data())) fail("the header cannot be read");
    at_ += length;
    return out;
  }

  std::uint64_t number(int width) {
    const std::string raw = take(static_cast<std::uint64_t>(width));
    std::uint64_t value = 0;
    for (const char c : raw) value = (value << 8) | static_cast<unsigned char>(c);
    return value;
  }

  // A count of items each at least `least` bytes long (the count read at byte `position`): no
  // more than the file can hold.
  std::uint64_t checked_count(std::uint64_t count, std::uint64_t least, const std::string& what,
                              std::uint64_t position) {
    if (count > (bytes_.size() - std::min(at_, bytes_.size())) / least) {
      fail(what + ": " + std::to_string(count) + " is more than the file can hold", position);
    }
    return count;
  }

  template <class Count>
  std::uint64_t list_count(std::uint32_t tag, const char* what, Count count) {
    const std::uint64_t where = at_;
    const std::uint64_t found_tag = number(4);
    const std::uint64_t items = count();
    if (found_tag == 0 && items == 0) return 0;  // ABSENT
    if (found_tag != tag) fail(std::string("expected the ") + what + " list's tag", where);
    return checked_count(items, 8, std::string(what) + " count", where + 4);
  }

  template <class Count>
  std::string name(Count count) {
    const std::uint64_t where = at_;
    const std::uint64_t length = checked_count(count(), 1, "name length", where);
    std::string text = take(length);
    take((4 - length % 4) % 4);
    return text;
  }

  template <class Count>
  std::vector<Attribute> attributes(Count count) {
    std::vector<Attribute> list;
    const std::uint64_t items = list_count(kAttributeTag, "attribute", count);
    for (std::uint64_t i = 0; i < items; ++i) {
      Attribute attribute;
      attribute.name = name(count);
      attribute.type = static_cast<std::uint32_t>(number(4));
      const TypeInfo* info = type_info(attribute.type);
      if (info == nullptr) fail("attribute " + attribute.name + " has type " + std::to_string(attribute.type));
      const std::uint64_t where = at_;
      attribute.count = checked_count(count(), info->size, "values of attribute " + attribute.name, where);
      const std::uint64_t length = attribute.count * info->size;
      attribute.values = take(length);
      take((4 - length % 4) % 4);
      list.push_back(std::move(attribute));
    }
    return list;
  }

  const std::string& location_;
  FileBytes& bytes_;
  std::uint64_t at_ = 0;
};

std::uint64_t big_endian(const char* bytes, std::uint64_t size) {
  std::uint64_t value = 0;
  for (std::uint64_t i = 0; i < size; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// One value of a numeric type as JSON.
std::string value_json(std::uint32_t type, const char* bytes) {
  const std::uint64_t raw = big_endian(bytes, type_info(type)->size);
  switch (type) {
    case kByte:
      return std::to_string(static_cast<std::int8_t>(raw));
    case kShort:
      return std::to_string(static_cast<std::int16_t>(raw));
    case kInt:
      return std::to_string(static_cast<std::int32_t>(raw));
    case kInt64:
      return std::to_string(static_cast<std::int64_t>(raw));
    case kFloat:
      return json_double(std::bit_cast<float>(static_cast<std::uint32_t>(raw)), false);
    case kDouble:
      return json_double(std::bit_cast<double>(raw), false);
    default:  // the unsigned types
      return std::to_string(raw);
  }
}

// Text as JSON: UTF-8 as it is, anything else read as Latin-1 (netCDF does not say).
std::string text_json(std::string_view text) {
  if (simdjson::validate_utf8(text.data(), text.size())) return json_quote(text);
  std::string utf8;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      utf8 += c;
    } else {
      utf8 += static_cast<char>(0xC0 | (byte >> 6));
      utf8 += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return json_quote(utf8);
}

std::string attribute_json(const Attribute& attribute) {
  if (attribute.type == kChar) {
    // netCDF strings are counted, not terminated; writers often count a trailing NUL.
    std::string_view text = attribute.values;
    while (text.ends_with('\0')) text.remove_suffix(1);
    return text_json(text);
  }
  const std::uint64_t size = type_info(attribute.type)->size;
  if (attribute.count == 1) return value_json(attribute.type, attribute.values.data());
  std::string out = "[";
  for (std::uint64_t i = 0; i < attribute.count; ++i) {
    out += (i ? ", " : "") + value_json(attribute.type, attribute.values.data() + i * size);
  }
  return out + "]";
}

class Netcdf3Scanner {
 public:
  Netcdf3Scanner(const std::string& location, FileBytes& bytes, const ScanOptions& options)
      : location_(location), bytes_(bytes), options_(options), url_(options.url.empty() ? location : options.url) {}

  ScanResult run() {
    header_ = HeaderReader(location_, bytes_).read();
    record_bytes_ = record_size();
    records_ = record_count();
    inline_records_ = records_end() <= options_.remote.first_read;
    check_extents();
    put(".zgroup", "{\"zarr_format\": 2}");
    std::map<std::string, std::string> globals;
    for (const Attribute& attribute : header_.attributes) globals[attribute.name] = attribute_json(attribute);
    put(".zattrs", json_object(globals));
    for (const Variable& variable : header_.variables) add_variable(variable);
    return std::move(result_);
  }

 private:
  void put(const std::string& key, std::string bytes) { result_.references[key] = std::move(bytes); }

  bool is_record(const Variable& variable) const {
    return !variable.dimensions.empty() && header_.dimensions[variable.dimensions[0]].length == 0;
  }

  // The bytes one record of the file takes: every record variable's slice, each padded to 4
  // bytes, except when there is only one record variable (no padding then).
  std::uint64_t record_size() const {
    std::uint64_t total = 0, variables = 0, only = 0;
    for (const Variable& variable : header_.variables) {
      if (!is_record(variable)) continue;
      const std::uint64_t slice = slice_bytes(variable);
      total += (slice + 3) / 4 * 4;
      only = slice;
      ++variables;
    }
    return variables == 1 ? only : total;
  }

  // Whether a dimension holds the characters of strings, as xarray decides: not the record
  // dimension, no variable of its name, and the last dimension of char variables alone.
  bool string_dimension(std::uint64_t id) const {
    const Dimension& dimension = header_.dimensions[id];
    if (dimension.length == 0) return false;
    for (const Variable& variable : header_.variables) {
      if (variable.name == dimension.name) return false;
      const auto& used = variable.dimensions;
      if (std::find(used.begin(), used.end(), id) == used.end()) continue;
      if (variable.type != kChar || used.back() != id) return false;
    }
    return true;
  }

  // One record's bytes of a record variable, or the whole of another.
  std::uint64_t slice_bytes(const Variable& variable) const {
    std::uint64_t bytes = type_info(variable.type)->size;
    for (std::size_t d = is_record(variable) ? 1 : 0; d < variable.dimensions.size(); ++d) {
      const std::uint64_t length = header_.dimensions[variable.dimensions[d]].length;
      if (length != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / length) {
        throw ScanError(location_ + ": variable " + variable.name + " is larger than 2^64 bytes");
      }
      bytes *= length;
    }
    return bytes;
  }

  // The number of records: the header's, or, for a file still being written (the streaming
  // count), as many whole records as the file holds.
  std::uint64_t record_count() const {
    if (!header_.streaming) return header_.records;
    std::uint64_t first = std::numeric_limits<std::uint64_t>::max();
    for (const Variable& variable : header_.variables) {
      if (is_record(variable)) first = std::min(first, variable.begin);
    }
    if (first == std::numeric_limits<std::uint64_t>::max() || record_bytes_ == 0 || first > bytes_.size()) return 0;
    return (bytes_.size() - first) / record_bytes_;
  }

  // Where the last record ends.
  std::uint64_t records_end() const {
    std::uint64_t end = 0;
    for (const Variable& variable : header_.variables) {
      if (is_record(variable) && records_ > 0) end = std::max(end, variable.begin + records_ * record_bytes_);
    }
    return end;
  }

  // Every variable's data within the file (a header claiming more, such as a record count no
  // writer wrote, is refused rather than referenced).
  void check_extents() const {
    const std::uint64_t size = bytes_.size();
    const std::uint64_t stride = std::max<std::uint64_t>(record_bytes_, 1);
    for (const Variable& variable : header_.variables) {
      const bool record = is_record(variable);
      if (record && records_ == 0) continue;  // no data at all
      const std::uint64_t slice = slice_bytes(variable);
      bool fits = variable.begin <= size;
      std::uint64_t last = variable.begin;  // where its last slice starts
      if (fits && record) {
        fits = records_ - 1 <= (size - variable.begin) / stride;
        if (fits) last += (records_ - 1) * stride;
      }
      if (!fits || slice > size - last) {
        throw ScanError(location_ + ": variable " + variable.name + ": its data lies beyond the end of the file (" +
                        (record ? std::to_string(records_) + " records of " : std::string()) + std::to_string(slice) +
                        " bytes from byte " + std::to_string(variable.begin) + "; the file has " +
                        std::to_string(size) + ")");
      }
    }
  }

  void add_variable(const Variable& variable) {
    const TypeInfo& info = *type_info(variable.type);
    std::vector<std::uint64_t> shape;
    std::vector<std::string> names;
    for (const std::uint64_t id : variable.dimensions) {
      const Dimension& dimension = header_.dimensions[id];
      shape.push_back(dimension.length == 0 ? records_ : dimension.length);
      names.push_back(dimension.name);
    }
    // char arrays: fixed-length strings along their last dimension when that is a string
    // dimension (see string_dimension), single characters otherwise.
    std::string dtype = info.dtype;
    std::uint64_t element_bytes = info.size;
    const bool strings =
        variable.type == kChar && !variable.dimensions.empty() && string_dimension(variable.dimensions.back());
    if (strings) {
      element_bytes = shape.back();
      dtype = "\"|S" + std::to_string(std::max<std::uint64_t>(element_bytes, 1)) + "\"";
      shape.pop_back();
      names.pop_back();
    }

    std::map<std::string, std::string> attributes;
    std::string fill = options_.default_fill ? info.default_fill : "null";
    for (const Attribute& attribute : variable.attributes) {
      if (attribute.name == "_FillValue" && attribute.type == variable.type && attribute.count >= 1) {
        // The explicit fill: the zarr fill value, as readers that mask take it from there.
        fill = value_json(attribute.type, attribute.values.data());
        if (fill == "NaN" || fill == "Infinity" || fill == "-Infinity") fill = "\"" + fill + "\"";
        if (variable.type == kChar) {
          // zarr keeps a bytes fill value in base64; a string's fill would be one character.
          fill = strings ? "null" : "\"" + refstore::base64_encode(attribute.values.substr(0, 1)) + "\"";
        }
        continue;
      }
      attributes[attribute.name] = attribute_json(attribute);
    }
    attributes["_ARRAY_DIMENSIONS"] = json_names(names);
    const std::string path = variable.name;
    put(path + "/.zattrs", json_object(attributes));

    std::vector<std::uint64_t> chunks = shape;
    for (std::uint64_t& c : chunks) c = std::max<std::uint64_t>(c, 1);
    const bool record = is_record(variable);
    std::uint64_t total = element_bytes;
    for (const std::uint64_t extent : shape) total *= extent;
    if (record) {
      chunks[0] = 1;
    } else if (options_.split_contiguous > 0 && total > options_.split_contiguous) {
      chunks = split_shape(shape, element_bytes, options_.split_contiguous);
    }
    put(path + "/.zarray", "{\"chunks\": " + json_list(chunks) + ", \"compressor\": null, \"dtype\": " + dtype +
                               ", \"fill_value\": " + fill + ", \"filters\": null, \"order\": \"C\", \"shape\": " +
                               json_list(shape) + ", \"zarr_format\": 2}");

    if (record) {
      const std::uint64_t slice = slice_bytes(variable);
      const std::uint64_t stride = record_bytes_;
      std::vector<std::uint64_t> position(shape.size(), 0);
      for (std::uint64_t r = 0; r < records_; ++r) {
        position[0] = r;
        add_chunk(path + "/" + common::chunk_key(position), variable.begin + r * stride, slice, true);
      }
    } else {
      std::uint64_t chunk_bytes = 0;
      for (const ContiguousPiece& piece : contiguous_pieces(shape, chunks, element_bytes, chunk_bytes)) {
        const std::string key = path + "/" + common::chunk_key(piece.position);
        if (piece.stored < chunk_bytes && variable.begin + piece.start + chunk_bytes > bytes_.size()) {
          std::string bytes(chunk_bytes, '\0');  // an edge chunk at the end of the file: zeros after it
          if (!bytes_.read(variable.begin + piece.start, piece.stored, bytes.data())) {
            throw ScanError(location_ + ": variable " + variable.name + ": its data cannot be read");
          }
          put(key, std::move(bytes));
        } else {
          add_chunk(key, variable.begin + piece.start, chunk_bytes);
        }
      }
    }
    result_.datasets.push_back({path, DatasetReport::Outcome::Referenced, ""});
  }

  // Small chunks are inlined; a record variable's slices only when every record lies within the
  // bytes a remote scan's first request reads: records are spread over the whole file, and
  // inlining them otherwise would cost a read (a request) each.
  void add_chunk(const std::string& key, std::uint64_t offset, std::uint64_t length, bool record = false) {
    add_chunk_reference(result_, bytes_, key, url_, offset, length,
                        length < options_.inline_threshold && (!record || inline_records_));
  }

  const std::string& location_;
  FileBytes& bytes_;
  const ScanOptions& options_;
  std::string url_;
  Header header_;
  std::uint64_t record_bytes_ = 0;  // record_size(), once the header is read
  std::uint64_t records_ = 0;
  bool inline_records_ = false;  // whether record slices may be inlined (see add_chunk)
  ScanResult result_;
};

}  // namespace

bool is_netcdf3(std::string_view /*location*/, FileBytes& bytes) {
  char magic[4];
  return bytes.size() >= 4 && bytes.read(0, 4, magic) && std::memcmp(magic, "CDF", 3) == 0 &&
         (magic[3] == 1 || magic[3] == 2 || magic[3] == 5);
}

common::Result<ScanResult> scan_netcdf3(const std::string& location, FileBytes& bytes, const ScanOptions& options) {
  try {
    return Netcdf3Scanner(location, bytes, options).run();
  } catch (const ScanError& error) {
    return common::Error{error.what()};
  }
}

}  // namespace kerchunkfs::sources
