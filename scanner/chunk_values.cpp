#include "scanner/chunk_values.h"

#include <algorithm>
#include <cstring>
#include <future>

#include <simdjson.h>

#include "refstore/compression.h"
#include "refstore/refstore.h"

namespace kerchunkfs::scanner {
namespace {

common::Status inflate_all(std::string& bytes) {
  auto inflated = refstore::inflate_zlib(bytes, "a chunk");
  if (!inflated) return inflated.error();
  bytes = std::move(inflated).value();
  return common::Ok{};
}

void unshuffle(std::string& bytes, std::size_t element_size) {
  if (element_size <= 1 || bytes.size() % element_size != 0) return;
  const std::size_t count = bytes.size() / element_size;
  std::string out(bytes.size(), '\0');
  for (std::size_t byte = 0; byte < element_size; ++byte) {
    for (std::size_t i = 0; i < count; ++i) out[i * element_size + byte] = bytes[byte * count + i];
  }
  bytes = std::move(out);
}

// Undoes one codec given as a JSON object.
common::Status undo_codec(simdjson::dom::element codec, std::string& bytes) {
  std::string_view id;
  if (codec.is_null()) return common::Ok{};
  if (codec["id"].get_string().get(id)) return common::Error{"a codec without an id"};
  if (id == "zlib" || id == "gzip") return inflate_all(bytes);
  if (id == "shuffle") {
    std::uint64_t element_size = 4;
    if (codec["elementsize"].get_uint64().get(element_size)) element_size = 4;  // numcodecs' default
    unshuffle(bytes, element_size);
    return common::Ok{};
  }
  return common::Error{"codec \"" + std::string(id) + "\" is not one the combiner decodes (zlib, gzip, shuffle)"};
}

}  // namespace

ReferenceReader::ReferenceReader() : sources_(fetch::SourceRegistry::with_default_sources()) {}
ReferenceReader::~ReferenceReader() { sources_.stop_all(); }

void ReferenceReader::read_locally(const std::string& url, const std::string& path) { local_paths_[url] = path; }

common::Result<std::string> ReferenceReader::bytes(const refstore::ReferenceValue& value) {
  if (const auto* inline_bytes = std::get_if<std::string>(&value)) return *inline_bytes;
  auto range = std::get<refstore::RangeReference>(value);
  if (const auto local = local_paths_.find(range.url); local != local_paths_.end()) range.url = local->second;
  fetch::ByteSource* source = sources_.find(range.url);
  if (source == nullptr)
    return common::Error{range.url + ": no source for this URL scheme (" + sources_.schemes() + ")"};
  std::promise<common::Result<fetch::ReadAnswer>> promise;
  auto answer = promise.get_future();
  source->read(range.url, range.offset, range.length,
               [&promise](common::Result<fetch::ReadAnswer> result) { promise.set_value(std::move(result)); });
  common::Result<fetch::ReadAnswer> result = answer.get();
  if (!result) return result.error();
  if (result->bytes.size() != range.length)
    return common::Error{range.url + ": the file ends inside the referenced range"};
  return std::move(result->bytes);
}

common::Result<std::string> decode_chunk(const ArrayMeta& meta, std::string bytes) {
  simdjson::dom::parser parser;
  simdjson::dom::element compressor, filters;
  if (parser.parse(simdjson::padded_string(meta.compressor)).get(compressor))
    return common::Error{"unreadable compressor"};
  if (const auto undone = undo_codec(compressor, bytes); !undone) return undone.error();
  simdjson::dom::parser filter_parser;
  if (filter_parser.parse(simdjson::padded_string(meta.filters)).get(filters))
    return common::Error{"unreadable filters"};
  if (filters.is_array()) {
    std::vector<simdjson::dom::element> list;
    for (const auto codec : filters.get_array()) list.push_back(codec);
    for (auto codec = list.rbegin(); codec != list.rend(); ++codec) {
      if (const auto undone = undo_codec(*codec, bytes); !undone) return undone.error();
    }
  }
  return bytes;
}

common::Result<std::vector<long double>> array_values(const ArrayMeta& meta,
                                                      const std::vector<std::string>& chunk_bytes) {
  std::vector<long double> values;
  const auto dtype = json_string(meta.dtype);
  if (meta.shape.size() != 1 || !dtype || dtype->size() < 3) {
    return common::Error{"not a one-dimensional array of numbers"};
  }
  const char order = (*dtype)[0], kind = (*dtype)[1];
  const std::size_t size = std::stoul(dtype->substr(2));
  const bool swap = order == '>';  // this machine is little-endian, like every one Debian runs us on
  if ((kind != 'i' && kind != 'u' && kind != 'f') || (kind == 'f' && size != 4 && size != 8) ||
      (size != 1 && size != 2 && size != 4 && size != 8)) {
    return common::Error{"dtype " + *dtype + " is not a number type the combiner reads"};
  }
  const std::uint64_t length = meta.shape[0], chunk = std::max<std::uint64_t>(meta.chunks[0], 1);
  for (std::uint64_t i = 0; i < length; ++i) {
    const std::string& bytes = chunk_bytes[i / chunk];
    const std::size_t at = (i % chunk) * size;
    if (at + size > bytes.size()) {
      return common::Error{"a chunk is shorter than its shape says"};
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
  return values;
}

}  // namespace kerchunkfs::scanner
