// Reference sets as files: read any reference set (ours, kerchunk's, v0 or v1, templates and gen
// expanded) into a ReferenceMap; write one, compressed when the name ends in .gz or .zst.
#pragma once

#include <string>

#include "common/result.h"
#include "refstore/writer.h"

namespace kerchunkfs::scanner {

// The references in the file; bad input fails naming the file and the problem.
[[nodiscard]] common::Result<refstore::ReferenceMap> read_reference_file(const std::string& path);

// Writes the file, compressed as its name asks; fails naming the file when it cannot.
[[nodiscard]] common::Status write_reference_file(const std::string& path, const refstore::ReferenceMap& references,
                                                  int version);

}  // namespace kerchunkfs::scanner
