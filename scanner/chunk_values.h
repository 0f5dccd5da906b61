// The bytes behind references, and the numbers in small arrays, for combining reference sets:
// coordinate values to order files by, and the bytes of variables that must agree across files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fetch/source_registry.h"
#include "refstore/writer.h"
#include "scanner/zarr_meta.h"

namespace kerchunkfs::scanner {

class ReferenceReader {
 public:
  ReferenceReader();
  ~ReferenceReader();
  ReferenceReader(const ReferenceReader&) = delete;
  ReferenceReader& operator=(const ReferenceReader&) = delete;

  // References to `url` are read from the local file `path` (a scan of a local copy that
  // references its remote home).
  void read_locally(const std::string& url, const std::string& path);
  // The bytes a reference stands for; false with `why` (naming the URL) when they cannot be read.
  bool bytes(const refstore::ReferenceValue& value, std::string& out, std::string& why);

 private:
  fetch::SourceRegistry sources_;
  std::map<std::string, std::string> local_paths_;
};

// One chunk's stored bytes decoded to raw array bytes: compressor and filters may be zlib, gzip
// or shuffle (what coordinate variables use); anything else gives false with `why`.
bool decode_chunk(const ArrayMeta& meta, std::string& bytes, std::string& why);

// Every element of a 1-D array whose chunks are in `chunks` (key → stored bytes; absent chunks
// read as the fill value), as numbers; false with `why` for other dtypes.
bool array_values(const ArrayMeta& meta, const std::vector<std::string>& chunk_bytes, std::vector<long double>& values,
                  std::string& why);

}  // namespace kerchunkfs::scanner
