// AWS Signature Version 4 for S3 GET requests: our own small signer on libcrypto's SHA-256 and
// HMAC. It signs host, range (when there is one), x-amz-content-sha256, x-amz-date and, with
// temporary credentials, x-amz-security-token — the same set botocore signs.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace kerchunkfs::fetch {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct SigV4Request {
  std::string_view method = "GET";
  std::string_view host;           // as sent in Host: with ":port" when not the scheme's default
  std::string_view canonical_uri;  // the path, already percent-encoded ("/bucket/a%20b.nc")
  std::string_view range;          // the Range header's value, or empty
  std::string_view region;
  std::string_view service = "s3";
  std::time_t time = 0;
  bool requester_pays = false;  // sends (and signs) x-amz-request-payer: requester
};

// The headers to send ("Name: value"): Authorization, x-amz-date, x-amz-content-sha256 and, with a
// session token, x-amz-security-token (and x-amz-request-payer when asked).
std::vector<std::string> sigv4_headers(const SigV4Request& request, const AwsCredentials& credentials);

std::string sha256_hex(std::string_view data);

// Percent-encodes an object key for a URL path as S3 expects: every byte except unreserved
// characters (A-Z a-z 0-9 - . _ ~) and '/'.
std::string uri_encode_path(std::string_view key);

}  // namespace kerchunkfs::fetch
