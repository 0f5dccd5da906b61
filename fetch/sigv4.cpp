#include "fetch/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <cstdio>

namespace kerchunkfs::fetch {
namespace {

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &size);
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
  return hex(digest.data(), digest.size());
}

std::string uri_encode_path(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out += c;
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", byte);
      out += escaped;
    }
  }
  return out;
}

std::vector<std::string> sigv4_headers(const SigV4Request& request, const AwsCredentials& credentials) {
  std::tm utc{};
  gmtime_r(&request.time, &utc);
  char stamp[17], day[9];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::strftime(day, sizeof day, "%Y%m%d", &utc);
  // GET requests have no body; S3 wants its hash sent, and signed, all the same.
  const std::string payload_hash = sha256_hex("");

  std::string canonical_headers = "host:" + std::string(request.host) + "\n";
  std::string signed_headers = "host";
  if (!request.range.empty()) {
    canonical_headers += "range:" + std::string(request.range) + "\n";
    signed_headers += ";range";
  }
  canonical_headers += "x-amz-content-sha256:" + payload_hash + "\nx-amz-date:" + stamp + "\n";
  signed_headers += ";x-amz-content-sha256;x-amz-date";
  if (request.requester_pays) {  // in the headers' sorted order: after x-amz-date, before x-amz-security-token
    canonical_headers += "x-amz-request-payer:requester\n";
    signed_headers += ";x-amz-request-payer";
  }
  if (!credentials.session_token.empty()) {
    canonical_headers += "x-amz-security-token:" + credentials.session_token + "\n";
    signed_headers += ";x-amz-security-token";
  }
  const std::string canonical_request = std::string(request.method) + "\n" + std::string(request.canonical_uri) +
                                        "\n\n" + canonical_headers + "\n" + signed_headers + "\n" + payload_hash;
  const std::string scope =
      std::string(day) + "/" + std::string(request.region) + "/" + std::string(request.service) + "/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + std::string(stamp) + "\n" + scope + "\n" + sha256_hex(canonical_request);
  const std::string key = hmac(
      hmac(hmac(hmac("AWS4" + credentials.secret_access_key, day), request.region), request.service), "aws4_request");
  const std::string signature = hmac(key, string_to_sign);

  std::vector<std::string> headers{
      "Authorization: AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
          ", SignedHeaders=" + signed_headers +
          ", Signature=" + hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size()),
      std::string("x-amz-date: ") + stamp,
      "x-amz-content-sha256: " + payload_hash,
  };
  if (request.requester_pays) headers.emplace_back("x-amz-request-payer: requester");
  if (!credentials.session_token.empty()) headers.push_back("x-amz-security-token: " + credentials.session_token);
  return headers;
}

}  // namespace kerchunkfs::fetch
