// What each fuzzer feeds its input to: the reference parser (any JSON, compressed or not), the
// HTTP answer checks, and the scanner over an arbitrary file. Also run over every saved finding
// by the unit tests, so a fixed crash stays fixed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kerchunkfs::fuzz {

void refstore_input(const std::uint8_t* data, std::size_t size);
void http_input(const std::uint8_t* data, std::size_t size);
void scan_input(const std::uint8_t* data, std::size_t size);

}  // namespace kerchunkfs::fuzz
