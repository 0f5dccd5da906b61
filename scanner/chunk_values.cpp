#include "scanner/chunk_values.h"

#include <algorithm>
#include <cstring>
#include <future>

#include "refstore/refstore.h"

namespace kerchunkfs::scanner {

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
