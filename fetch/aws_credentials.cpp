#include "fetch/aws_credentials.h"

#include <curl/curl.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>

#include "fetch/url.h"

namespace kerchunkfs::fetch {
namespace {

constexpr long kMetadataTimeoutMs = 2000;
constexpr std::time_t kRefreshMargin = 300;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string home_file(const char* variable, const char* relative) {
  std::string set = env(variable);
  if (!set.empty()) return set;
  const std::string home = env("HOME");
  return home.empty() ? "" : home + "/" + relative;
}

std::string profile_name() {
  const std::string profile = env("AWS_PROFILE");
  return profile.empty() ? "default" : profile;
}

std::string trim(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The key = value pairs of one [section] of an INI file such as ~/.aws/credentials.
std::map<std::string, std::string> ini_section(const std::string& path, const std::string& section) {
  std::map<std::string, std::string> values;
  std::ifstream file(path);
  std::string line;
  bool inside = false;
  while (std::getline(file, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      inside = trim(line.substr(1, line.size() - 2)) == section;
      continue;
    }
    const std::size_t equals = line.find('=');
    if (inside && equals != std::string::npos) values[trim(line.substr(0, equals))] = trim(line.substr(equals + 1));
  }
  return values;
}

struct Response {
  long status = 0;
  std::string body;
  std::string error;
};

// How a credential request goes: the local endpoints answer at once; a credentials URL may take a
// login's redirects, with netrc credentials and the cookies set along the way.
struct Fetching {
  long timeout_ms = kMetadataTimeoutMs;
  bool logins = false;
  std::string netrc_file;
};

// A small blocking request for credential endpoints.
Response fetch(const char* method, const std::string& url, const std::vector<std::string>& headers,
               const Fetching& how = {}) {
  Response response;
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(list, &curl_slist_free_all);
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, how.timeout_ms);
  if (how.logins) {
    curl_easy_setopt(easy.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(easy.get(), CURLOPT_COOKIEFILE, "");  // cookies of the redirect chain, in memory
    curl_easy_setopt(easy.get(), CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
    if (!how.netrc_file.empty()) curl_easy_setopt(easy.get(), CURLOPT_NETRC_FILE, how.netrc_file.c_str());
  }
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(
      easy.get(), CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* body) {
        auto* text = static_cast<std::string*>(body);
        if (text->size() > 64 * 1024) return std::size_t{0};
        text->append(data, size * count);
        return size * count;
      });
  const CURLcode code = curl_easy_perform(easy.get());
  if (code != CURLE_OK) response.error = curl_easy_strerror(code);
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

// "2026-12-01T14:00:00Z" (AWS) or "2026-12-01 14:00:00+00:00" (the DAACs): UTC either way.
std::time_t parse_expiration(std::string_view text) {
  std::tm tm{};
  const std::string copy(text);
  if (strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr &&
      strptime(copy.c_str(), "%Y-%m-%d %H:%M:%S", &tm) == nullptr) {
    return 0;
  }
  return timegm(&tm);
}

// The field names temporary credentials come under: AWS's container and instance endpoints, and
// the DAACs' s3credentials endpoints.
struct CredentialFields {
  const char* key;
  const char* secret;
  const char* token;
  const char* expiration;
  bool token_required;
};
constexpr CredentialFields kAwsFields{"AccessKeyId", "SecretAccessKey", "Token", "Expiration", false};
constexpr CredentialFields kDaacFields{"accessKeyId", "secretAccessKey", "sessionToken", "expiration", true};

std::optional<AwsCredentials> parse_temporary(const std::string& json, std::time_t& expires,
                                              const CredentialFields& fields = kAwsFields) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(json).get(document) != simdjson::SUCCESS) return std::nullopt;
  std::string_view key, secret, token, expiration;
  if (document[fields.key].get(key) != simdjson::SUCCESS || document[fields.secret].get(secret) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (document[fields.token].get(token) != simdjson::SUCCESS) {
    if (fields.token_required) return std::nullopt;
    token = {};  // long-term keys have none
  }
  if (document[fields.expiration].get(expiration) == simdjson::SUCCESS) expires = parse_expiration(expiration);
  return AwsCredentials{std::string(key), std::string(secret), std::string(token)};
}

}  // namespace

std::optional<std::string> aws_profile_region() {
  const std::string profile = profile_name();
  const auto config =
      ini_section(home_file("AWS_CONFIG_FILE", ".aws/config"), profile == "default" ? "default" : "profile " + profile);
  if (const auto found = config.find("region"); found != config.end() && !found->second.empty()) return found->second;
  return std::nullopt;
}

common::Result<AwsCredentials> AwsCredentialProvider::get() {
  std::lock_guard lock(mutex_);
  const std::time_t now = std::time(nullptr);
  const std::time_t margin = std::min(kRefreshMargin, (expires_ - fetched_) / 2);
  if (cached_ && (expires_ == 0 || now < expires_ - margin)) return *cached_;
  auto found = source_.url.empty() ? lookup() : from_url();
  if (found) {
    cached_ = *found;
    fetched_ = now;
  }
  return found;
}

common::Result<AwsCredentials> AwsCredentialProvider::from_url() {
  expires_ = 0;
  const Response response = fetch("GET", source_.url, {}, Fetching{30'000, true, source_.netrc_file});
  if (response.status == 200) {
    if (auto found = parse_temporary(response.body, expires_, kDaacFields)) return *found;
    if (auto found = parse_temporary(response.body, expires_)) return *found;
  }
  return common::Error{"the S3 credentials URL " + redact_url(source_.url) + " gave no credentials (" +
                       (response.error.empty() ? "HTTP " + std::to_string(response.status) : response.error) + ")"};
}

common::Result<AwsCredentials> AwsCredentialProvider::lookup() {
  expires_ = 0;
  const std::string key = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (!key.empty() && !secret.empty()) return AwsCredentials{key, secret, env("AWS_SESSION_TOKEN")};

  const std::string profile = profile_name();
  const std::string credentials_file = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  auto values = ini_section(credentials_file, profile);
  if (values["aws_access_key_id"].empty()) {
    values = ini_section(home_file("AWS_CONFIG_FILE", ".aws/config"),
                         profile == "default" ? "default" : "profile " + profile);
  }
  if (!values["aws_access_key_id"].empty() && !values["aws_secret_access_key"].empty()) {
    return AwsCredentials{values["aws_access_key_id"], values["aws_secret_access_key"], values["aws_session_token"]};
  }

  std::string container = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (container.empty() && !env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").empty()) {
    container = "http://169.254.170.2" + env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  }
  if (!container.empty()) {
    std::vector<std::string> headers;
    if (const std::string token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN"); !token.empty()) {
      headers.push_back("Authorization: " + token);
    }
    const Response response = fetch("GET", container, headers);
    if (response.status == 200) {
      if (auto found = parse_temporary(response.body, expires_)) return *found;
    }
    return common::Error{"the container credentials endpoint " + container + " gave no credentials (" +
                         (response.error.empty() ? "HTTP " + std::to_string(response.status) : response.error) + ")"};
  }

  if (env("AWS_EC2_METADATA_DISABLED") != "true") {
    std::string endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint.empty()) endpoint = "http://169.254.169.254";
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const Response token =
        fetch("PUT", endpoint + "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 21600"});
    if (token.status == 200) {
      const std::string header = "X-aws-ec2-metadata-token: " + token.body;
      const std::string base = endpoint + "/latest/meta-data/iam/security-credentials/";
      const Response role = fetch("GET", base, {header});
      const std::string name = trim(role.body.substr(0, role.body.find('\n')));
      if (role.status == 200 && !name.empty()) {
        const Response response = fetch("GET", base + name, {header});
        if (response.status == 200) {
          if (auto found = parse_temporary(response.body, expires_)) return *found;
        }
      }
    }
  }
  return common::Error{"no AWS credentials: none in the environment, in profile \"" + profile + "\" of " +
                       credentials_file +
                       ", from a container endpoint or from instance metadata (use -o anon for public "
                       "buckets)"};
}

}  // namespace kerchunkfs::fetch
