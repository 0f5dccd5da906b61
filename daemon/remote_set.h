// Reference sets named by URL (http://, https://, s3://, gs://), as fsspec takes any URL for its
// `fo`: the set is fetched whole through the mount's sources (so with the same options and
// credentials as data), decompressed when it is gzip or zstd, and parsed as a JSON set whose
// relative targets resolve against the set's own location.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "fetch/source_registry.h"

namespace kerchunkfs::daemon {

// Whether REFS names a remote object rather than a local path (file:// counts as local).
bool is_remote_set(std::string_view refs);
// Whether a set by URL is in the parquet layout (a folder: its URL ends in ".parq" or "/"), whose
// .zmetadata is fetched at load and each refs file when first used.
bool is_remote_parquet_set(std::string_view url);
// A parquet set's URL without the slash it may end in.
std::string without_trailing_slash(std::string_view url);
// The object a set by URL is read from and whose version tells that it changed: a parquet set's
// .zmetadata (written last by its writers), the set itself otherwise.
std::string set_object(std::string_view url);
// Where the set lies, for resolving relative targets: the URL up to its last slash (a parquet
// set's folder URL: its parent's).
std::string remote_directory(std::string_view url);
// The set's bytes, decompressed; an error names the URL. A set larger than `most_bytes` (after
// decompression too) is refused rather than held.
[[nodiscard]] common::Result<std::string> fetch_remote_set(const std::string& url, const fetch::SourceRegistry& sources,
                                                           std::uint64_t most_bytes);
// The object's version (its ETag or Last-Modified) from a one-byte read; empty when the server
// names none. An error names the URL.
[[nodiscard]] common::Result<std::string> remote_version(const std::string& url, const fetch::SourceRegistry& sources);

}  // namespace kerchunkfs::daemon
