#include "scanner/scan.h"

#include "fetch/url.h"
#include "sources/file_bytes.h"
#include "sources/remote_file.h"
#include "sources/source_format.h"

namespace kerchunkfs::scanner {
namespace {

using common::Error;
using common::Result;

Result<ScanResult> scan_bytes(const std::string& location, sources::FileBytes& bytes, const ScanOptions& options) {
  for (const sources::SourceFormat& format : sources::source_formats()) {
    if (format.recognises(location, bytes)) return format.scan(location, bytes, options);
  }
  return Error{location + ": not a format kerchunkfs-scan reads"};
}

}  // namespace

Result<ScanResult> scan_file(const std::string& location, const ScanOptions& options) {
  if (fetch::url_scheme(location) == "file") {
    const std::string path = location.starts_with("file://") ? location.substr(7) : location;
    sources::LocalFileBytes bytes(path);
    return scan_bytes(path, bytes, options);
  }
  fetch::ByteSource* source = options.sources != nullptr ? options.sources->find(location) : nullptr;
  if (source == nullptr) return Error{location + ": no way to read this URL scheme here"};
  sources::RemoteFile remote(location, *source, options.remote);
  if (!remote.failure().empty()) return Error{remote.failure()};
  Result<ScanResult> result = scan_bytes(location, remote, options);
  // A failed remote read is the cause of whatever the format reported after it, and when nothing
  // was reported it may still have left a dataset out or an attribute short.
  if (!remote.failure().empty()) return Error{remote.failure()};
  return result;
}

}  // namespace kerchunkfs::scanner
