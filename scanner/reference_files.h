// Reference sets as files: read any reference set (ours, kerchunk's, v0 or v1, templates and gen
// expanded) into a ReferenceMap; write one, compressed when the name ends in .gz or .zst.
#pragma once

#include <string>

#include "refstore/writer.h"

namespace kerchunkfs::scanner {

// Throws refstore::LoadError naming the file and the problem.
refstore::ReferenceMap read_reference_file(const std::string& path);

// False with `why` when the file cannot be written.
bool write_reference_file(const std::string& path, const refstore::ReferenceMap& references, int version,
                          std::string& why);

}  // namespace kerchunkfs::scanner
