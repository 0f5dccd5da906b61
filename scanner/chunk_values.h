// The bytes behind references, and the numbers in small arrays, for combining reference sets:
// coordinate values to order files by, and the bytes of variables that must agree across files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
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
  // The bytes a reference stands for, or why (naming the URL) they cannot be read.
  [[nodiscard]] common::Result<std::string> bytes(const refstore::ReferenceValue& value);

 private:
  fetch::SourceRegistry sources_;
  std::map<std::string, std::string> local_paths_;
};

// Every element of a 1-D array whose chunks are in `chunk_bytes` (in order; absent chunks read
// as the fill value), as numbers; other dtypes are refused.
[[nodiscard]] common::Result<std::vector<long double>> array_values(const ArrayMeta& meta,
                                                                    const std::vector<std::string>& chunk_bytes);

}  // namespace kerchunkfs::scanner
