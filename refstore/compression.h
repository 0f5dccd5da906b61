// Compressed reference sets: gzip (zlib) and zstd, recognised by their magic bytes.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace kerchunkfs::refstore {

enum class Compression { None, Gzip, Zstd };

// What the first bytes of a file say it is.
Compression detect_compression(std::string_view head);
// The compression a file name asks for: ".gz" or ".zst" at its end.
Compression compression_for_name(std::string_view name);

// The data expanded; damaged data fails naming `path` and where the damage is.
[[nodiscard]] common::Result<std::string> decompress(std::string_view data, Compression compression,
                                                     const std::string& path);
std::string compress(std::string_view data, Compression compression);

// Deflated data with a zlib or a gzip header (which one, the data says).
[[nodiscard]] common::Result<std::string> inflate_zlib(std::string_view data, const std::string& path);

}  // namespace kerchunkfs::refstore
