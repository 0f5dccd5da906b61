#include "refstore/base64.h"

#include <array>
#include <cstdint>

namespace kerchunkfs::refstore {
namespace {

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}

constexpr auto kDecode = make_decode_table();

}  // namespace

bool base64_decode_append(std::string_view text, std::string& out) {
  std::size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  const std::size_t remainder = text.size() % 4;
  if (remainder == 1 || (padding > 0 && (text.size() + padding) % 4 != 0)) return false;

  const std::size_t original_size = out.size();
  out.reserve(original_size + text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (const char c : text) {
    const std::uint8_t sextet = kDecode[static_cast<unsigned char>(c)];
    if (sextet == kInvalid) {
      out.resize(original_size);
      return false;
    }
    bits = (bits << 6) | sextet;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  // Leftover bits of the last quantum must be zero in canonical encodings; non-canonical ones are
  // still decodable, and Python's decoder accepts them, so accept them too.
  return true;
}

namespace {
constexpr char kEncodeAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]),
               c = static_cast<unsigned char>(bytes[i + 2]);
    out += kEncodeAlphabet[a >> 2];
    out += kEncodeAlphabet[((a & 3) << 4) | (b >> 4)];
    out += kEncodeAlphabet[((b & 15) << 2) | (c >> 6)];
    out += kEncodeAlphabet[c & 63];
  }
  if (i < bytes.size()) {
    const auto a = static_cast<unsigned char>(bytes[i]);
    const auto b = i + 1 < bytes.size() ? static_cast<unsigned char>(bytes[i + 1]) : 0;
    out += kEncodeAlphabet[a >> 2];
    out += kEncodeAlphabet[((a & 3) << 4) | (b >> 4)];
    out += i + 1 < bytes.size() ? kEncodeAlphabet[(b & 15) << 2] : '=';
    out += '=';
  }
  return out;
}

}  // namespace kerchunkfs::refstore
