// What each fuzzer feeds its input to: the reference parser (any JSON, compressed or not), the
// HTTP answer checks, the scanner over an arbitrary file, and the chunk decoders (with the
// unpacking and the assembled-array metadata of the decoded view). Also run over every saved finding
// by the unit tests, so a fixed crash stays fixed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kerchunkfs::fuzz {

void refstore_input(const std::uint8_t* data, std::size_t size);
void http_input(const std::uint8_t* data, std::size_t size);
void scan_input(const std::uint8_t* data, std::size_t size);
// [codec config: 1 byte][element count: 2 bytes, little-endian][stored chunk...]; config 255:
// the rest is a reference set whose array "a" is loaded as an assembled array.
void codec_input(const std::uint8_t* data, std::size_t size);
// Any bytes as a Parquet file through the reader; a table read must hold as many values per
// column as it has rows, and what it reads must survive being written and read again.
void parquet_input(const std::uint8_t* data, std::size_t size);
// Any bytes as a DMR++ sidecar: the XML reader (no DTD, bounded) and the mapping to references.
void dmrpp_input(const std::uint8_t* data, std::size_t size);

}  // namespace kerchunkfs::fuzz
