// Reference sets as files: read any reference set (ours, kerchunk's, v0 or v1, templates and gen
// expanded) into a ReferenceMap; write one, compressed when the name ends in .gz or .zst.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "refstore/writer.h"

namespace kerchunkfs::scanner {

// The references in the file; bad input fails naming the file and the problem.
[[nodiscard]] common::Result<refstore::ReferenceMap> read_reference_file(const std::string& path);

// Writes the file, compressed as its name asks, or for a name ending in .parq the directory of
// kerchunk's parquet layout with `record_size` rows a file; fails naming the file when it cannot.
[[nodiscard]] common::Status write_reference_file(const std::string& path, const refstore::ReferenceMap& references,
                                                  int version, std::uint64_t record_size);

}  // namespace kerchunkfs::scanner
