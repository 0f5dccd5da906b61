// One file → a reference set, whatever its format: the file's bytes (local, or remote through
// the fetch engine) offered to each source format in sources/source_format.h's table, the first
// that recognises it scanning it.
#pragma once

#include <string>

#include "common/result.h"
#include "sources/scan_result.h"

namespace kerchunkfs::scanner {

using sources::DatasetReport;
using sources::ScanOptions;
using sources::ScanResult;

// `location` is a local path, a file:// URL or a remote URL. An error names the file: when it
// cannot be read, when its format refuses it, and when a remote read failed anywhere in the scan
// (which then is the cause of whatever the format said, and nothing of the scan is kept).
[[nodiscard]] common::Result<ScanResult> scan_file(const std::string& location, const ScanOptions& options);

}  // namespace kerchunkfs::scanner
