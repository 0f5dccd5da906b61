// The source formats kerchunkfs-scan reads, each a folder of sources/ behind this one interface,
// one line each in sources/formats.cpp's table: a cheap recogniser (the file's first bytes, or its
// name for a sidecar) and a scan from its bytes, local or remote alike, to references and a report
// of what was refused and why. scanner/scan.cpp walks the table once per file. Adding a format is
// a folder, a line in the table and its tests (CONTRIBUTING.md).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sources/file_bytes.h"
#include "sources/scan_result.h"

namespace kerchunkfs::sources {

struct SourceFormat {
  std::string_view name;  // "hdf5", "netcdf3", "dmrpp": in messages and the scan summary
  // Whether the file at `location` is of this format: from its name, or from a few of its first
  // bytes (read through `bytes`, which a remote file answers from its first request).
  bool (*recognises)(std::string_view location, FileBytes& bytes);
  // The scan; an error names the file and what is wrong with it.
  common::Result<ScanResult> (*scan)(const std::string& location, FileBytes& bytes, const ScanOptions& options);
  // For a sidecar (a file describing another): what its name adds to the described file's name,
  // whose name references get; empty for a data format.
  std::string_view sidecar_suffix;
};

// Every format, the more particular before the more general: the first that recognises a file
// scans it.
std::span<const SourceFormat> source_formats();

// The sidecar suffix `location` ends in (before any query), if it names a sidecar; empty if not.
std::string_view sidecar_suffix(std::string_view location);

}  // namespace kerchunkfs::sources
