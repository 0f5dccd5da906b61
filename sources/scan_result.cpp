#include "sources/scan_result.h"

#include <utility>

namespace kerchunkfs::sources {

void add_chunk_reference(ScanResult& result, FileBytes& bytes, const std::string& key, const std::string& url,
                         std::uint64_t offset, std::uint64_t length, bool inline_bytes) {
  if (inline_bytes) {
    std::string data(length, '\0');
    if (bytes.read(offset, length, data.data())) {
      result.references[key] = std::move(data);
      return;
    }
  }
  result.references[key] = refstore::RangeReference{url, offset, length};
  ++result.chunk_references;
}

}  // namespace kerchunkfs::sources
