// Compressed reference sets: gzip (zlib) and zstd, recognised by their magic bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kerchunkfs::refstore {

enum class Compression { None, Gzip, Zstd };

// What the first bytes of a file say it is.
Compression detect_compression(std::string_view head);
// The compression a file name asks for: ".gz" or ".zst" at its end.
Compression compression_for_name(std::string_view name);

// The most a compressed set may expand to unless a caller says otherwise: a few kilobytes of
// gzip can claim gigabytes, and a set from the internet must not take all memory that way.
inline constexpr std::uint64_t kMostExpandedBytes = 4ull << 30;

// The data expanded; damaged data fails naming `path` and where the damage is, and so does data
// that would expand beyond `most_bytes` (found out without holding more than that).
[[nodiscard]] common::Result<std::string> decompress(std::string_view data, Compression compression,
                                                     const std::string& path,
                                                     std::uint64_t most_bytes = kMostExpandedBytes);
std::string compress(std::string_view data, Compression compression);

}  // namespace kerchunkfs::refstore
