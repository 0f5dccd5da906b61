#include "scanner/chunk_values.h"

#include <algorithm>
#include <cstring>
#include <future>

#include <simdjson.h>

#include "refstore/compression.h"
#include "refstore/refstore.h"

namespace kerchunkfs::scanner {
namespace {

bool inflate_all(std::string& bytes, std::string& why) {
  try {
    bytes = refstore::inflate_zlib(bytes, "a chunk");
    return true;
  } catch (const refstore::LoadError& error) {
    why = error.what();
    return false;
  }
}

bool unshuffle(std::string& bytes, std::size_t element_size) {
  if (element_size <= 1 || bytes.size() % element_size != 0) return true;
  const std::size_t count = bytes.size() / element_size;
  std::string out(bytes.size(), '\0');
  for (std::size_t byte = 0; byte < element_size; ++byte) {
    for (std::size_t i = 0; i < count; ++i) out[i * element_size + byte] = bytes[byte * count + i];
  }
  bytes = std::move(out);
  return true;
}

// Undoes one codec given as a JSON object.
bool undo_codec(simdjson::dom::element codec, std::string& bytes, std::string& why) {
  std::string_view id;
  if (codec.is_null()) return true;
  if (codec["id"].get_string().get(id)) {
    why = "a codec without an id";
    return false;
  }
  if (id == "zlib" || id == "gzip") return inflate_all(bytes, why);
  if (id == "shuffle") {
    std::uint64_t element_size = 4;
    if (codec["elementsize"].get_uint64().get(element_size)) element_size = 4;  // numcodecs' default
    return unshuffle(bytes, element_size);
  }
  why = "codec \"" + std::string(id) + "\" is not one the combiner decodes (zlib, gzip, shuffle)";
  return false;
}

}  // namespace

ReferenceReader::ReferenceReader() : sources_(fetch::SourceRegistry::with_default_sources()) {}
ReferenceReader::~ReferenceReader() { sources_.stop_all(); }

void ReferenceReader::read_locally(const std::string& url, const std::string& path) { local_paths_[url] = path; }

bool ReferenceReader::bytes(const refstore::ReferenceValue& value, std::string& out, std::string& why) {
  if (const auto* inline_bytes = std::get_if<std::string>(&value)) {
    out = *inline_bytes;
    return true;
  }
  auto range = std::get<refstore::RangeReference>(value);
  if (const auto local = local_paths_.find(range.url); local != local_paths_.end()) range.url = local->second;
  fetch::ByteSource* source = sources_.find(range.url);
  if (source == nullptr) {
    why = range.url + ": no source for this URL scheme (" + sources_.schemes() + ")";
    return false;
  }
  std::promise<fetch::ReadResult> promise;
  auto answer = promise.get_future();
  source->read(range.url, range.offset, range.length,
               [&promise](fetch::ReadResult result) { promise.set_value(std::move(result)); });
  fetch::ReadResult result = answer.get();
  if (result.error != 0 || result.bytes.size() != range.length) {
    why = result.error != 0 ? result.message : range.url + ": the file ends inside the referenced range";
    return false;
  }
  out = std::move(result.bytes);
  return true;
}

bool decode_chunk(const ArrayMeta& meta, std::string& bytes, std::string& why) {
  simdjson::dom::parser parser;
  simdjson::dom::element compressor, filters;
  if (parser.parse(simdjson::padded_string(meta.compressor)).get(compressor) || !undo_codec(compressor, bytes, why)) {
    return why.empty() ? (why = "unreadable compressor", false) : false;
  }
  simdjson::dom::parser filter_parser;
  if (filter_parser.parse(simdjson::padded_string(meta.filters)).get(filters))
    return (why = "unreadable filters", false);
  if (filters.is_array()) {
    std::vector<simdjson::dom::element> list;
    for (const auto codec : filters.get_array()) list.push_back(codec);
    for (auto codec = list.rbegin(); codec != list.rend(); ++codec) {
      if (!undo_codec(*codec, bytes, why)) return false;
    }
  }
  return true;
}

bool array_values(const ArrayMeta& meta, const std::vector<std::string>& chunk_bytes, std::vector<long double>& values,
                  std::string& why) {
  const auto dtype = json_string(meta.dtype);
  if (meta.shape.size() != 1 || !dtype || dtype->size() < 3) {
    why = "not a one-dimensional array of numbers";
    return false;
  }
  const char order = (*dtype)[0], kind = (*dtype)[1];
  const std::size_t size = std::stoul(dtype->substr(2));
  const bool swap = order == '>';  // this machine is little-endian, like every one Debian runs us on
  if ((kind != 'i' && kind != 'u' && kind != 'f') || (kind == 'f' && size != 4 && size != 8) ||
      (size != 1 && size != 2 && size != 4 && size != 8)) {
    why = "dtype " + *dtype + " is not a number type the combiner reads";
    return false;
  }
  values.clear();
  const std::uint64_t length = meta.shape[0], chunk = std::max<std::uint64_t>(meta.chunks[0], 1);
  for (std::uint64_t i = 0; i < length; ++i) {
    const std::string& bytes = chunk_bytes[i / chunk];
    const std::size_t at = (i % chunk) * size;
    if (at + size > bytes.size()) {
      why = "a chunk is shorter than its shape says";
      return false;
    }
    unsigned char raw[8];
    std::memcpy(raw, bytes.data() + at, size);
    if (swap) std::reverse(raw, raw + size);
    long double value = 0;
    if (kind == 'f') {
      if (size == 4) {
        float f;
        std::memcpy(&f, raw, 4);
        value = f;
      } else {
        double d;
        std::memcpy(&d, raw, 8);
        value = d;
      }
    } else if (kind == 'u') {
      std::uint64_t u = 0;
      std::memcpy(&u, raw, size);
      value = static_cast<long double>(u);
    } else {
      std::uint64_t u = 0;
      std::memcpy(&u, raw, size);
      const int shift = static_cast<int>(64 - 8 * size);
      value = static_cast<long double>(static_cast<std::int64_t>(u << shift) >> shift);  // sign-extended
    }
    values.push_back(value);
  }
  return true;
}

}  // namespace kerchunkfs::scanner
