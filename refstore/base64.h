// Base64 (RFC 4648 standard alphabet, padded): strict decoding of "base64:" inline values, and
// encoding for the values and fill values we write.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kerchunkfs::refstore {

// Appends the decoded bytes of `text` to `out`. Padding is optional; any character outside the
// alphabet, misplaced padding or a dangling single character makes the whole input invalid, in
// which case `out` is left unchanged and false is returned.
bool base64_decode_append(std::string_view text, std::string& out);

std::string base64_encode(std::string_view bytes);

}  // namespace kerchunkfs::refstore
