#include "fetch/aws_credentials.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "common/unique_fd.h"
#include "fetch/url.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawn passes it on

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
  std::string body;  // sent as the request's body when not empty
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
  if (!how.body.empty()) {
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(how.body.size()));
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, how.body.c_str());
  }
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
constexpr CredentialFields kProcessFields{"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", false};

constexpr int kProcessTimeoutMs = 60'000;
constexpr std::size_t kProcessOutputLimit = 64 * 1024;

// What a credential_process printed, run by /bin/sh (which takes the quoting AWS's tools take
// apart themselves) with its output bounded and its run time limited; or why it gave nothing.
common::Result<std::string> run_credential_process(const std::string& command) {
  int pipe_ends[2];
  if (::pipe2(pipe_ends, O_CLOEXEC) != 0) return common::Error{"credential_process: no pipe"};
  const common::UniqueFd read_end(pipe_ends[0]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_ends[1]);  // the child's copy is the only writer left: its exit ends the output
  if (spawned != 0) return common::Error{"credential_process: cannot run /bin/sh"};
  std::string output;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kProcessTimeoutMs);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd ready{read_end.get(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) == 0) {
      timed_out = true;
      break;
    }
    char buffer[4096];
    const ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    output.append(buffer, static_cast<std::size_t>(got));
    if (output.size() > kProcessOutputLimit) break;
  }
  if (timed_out || output.size() > kProcessOutputLimit) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return common::Error{"credential_process: no answer within 60 s"};
  if (output.size() > kProcessOutputLimit) return common::Error{"credential_process: more than 64 KiB of output"};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return common::Error{"credential_process: exited with status " +
                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))};
  }
  return output;
}

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

// The text of the first <name> element inside `xml`, its five predefined entities replaced.
std::optional<std::string> element_text(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  const std::size_t start = xml.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const std::size_t end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view raw = xml.substr(start + open.size(), end - start - open.size());
  std::string text;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool replaced = false;
    for (const auto& [entity, character] : kEntities) {
      if (raw.substr(i).starts_with(entity)) {
        text += character;
        i += entity.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) text += raw[i];
  }
  return text;
}

std::string form_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
      out += escaped;
    }
  }
  return out;
}

}  // namespace

std::optional<AwsCredentials> parse_sts_answer(std::string_view xml, std::time_t& expires) {
  const std::size_t credentials = xml.find("<Credentials>");
  if (credentials == std::string_view::npos) return std::nullopt;
  xml.remove_prefix(credentials);
  auto key = element_text(xml, "AccessKeyId");
  auto secret = element_text(xml, "SecretAccessKey");
  auto token = element_text(xml, "SessionToken");
  if (!key || !secret || !token || key->empty() || secret->empty()) return std::nullopt;
  if (const auto expiration = element_text(xml, "Expiration")) expires = parse_expiration(*expiration);
  return AwsCredentials{std::move(*key), std::move(*secret), std::move(*token)};
}

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
  const Response response = fetch("GET", source_.url, {}, Fetching{30'000, true, source_.netrc_file, {}});
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
  const auto config =
      ini_section(home_file("AWS_CONFIG_FILE", ".aws/config"), profile == "default" ? "default" : "profile " + profile);
  std::string token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
  std::string role = env("AWS_ROLE_ARN");
  std::string session = env("AWS_ROLE_SESSION_NAME");
  if (token_file.empty() || role.empty()) {
    const auto setting = [&config](const char* name) {
      const auto found = config.find(name);
      return found == config.end() ? std::string() : found->second;
    };
    token_file = setting("web_identity_token_file");
    role = setting("role_arn");
    session = setting("role_session_name");
  }
  if (!token_file.empty() && !role.empty()) return from_web_identity(token_file, role, session);

  const std::string credentials_file = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  auto values = ini_section(credentials_file, profile);
  if (values["aws_access_key_id"].empty()) values = config;
  if (!values["aws_access_key_id"].empty() && !values["aws_secret_access_key"].empty()) {
    return AwsCredentials{values["aws_access_key_id"], values["aws_secret_access_key"], values["aws_session_token"]};
  }
  if (const std::string command = values["credential_process"]; !command.empty()) {
    // The profile's program prints {"Version": 1, "AccessKeyId", "SecretAccessKey",
    // "SessionToken", "Expiration"}: run again when they expire, as AWS's tools do.
    auto output = run_credential_process(command);
    if (!output) return common::wrap(output.error(), "profile \"" + profile + "\"");
    simdjson::dom::parser parser;
    std::int64_t version = 0;
    if (parser.parse(*output)["Version"].get(version) != simdjson::SUCCESS || version != 1) {
      return common::Error{"profile \"" + profile + "\": credential_process printed no JSON with \"Version\": 1"};
    }
    if (auto found = parse_temporary(*output, expires_, kProcessFields)) return *found;
    return common::Error{"profile \"" + profile + "\": credential_process printed no AccessKeyId and SecretAccessKey"};
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

common::Result<AwsCredentials> AwsCredentialProvider::from_web_identity(const std::string& token_file,
                                                                        const std::string& role, std::string session) {
  // The token is read at every refresh: Kubernetes rotates the projected file.
  std::ifstream in(token_file);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  token = trim(token.substr(0, token.find('\n')));
  if (token.empty()) return common::Error{"the web identity token file " + token_file + " cannot be read or is empty"};
  if (session.empty()) session = "kerchunkfs-" + std::to_string(std::time(nullptr));
  std::string endpoint = env("AWS_ENDPOINT_URL_STS");
  if (endpoint.empty()) endpoint = env("AWS_ENDPOINT_URL");
  if (endpoint.empty()) {
    std::string region = env("AWS_REGION");
    if (region.empty()) region = env("AWS_DEFAULT_REGION");
    if (region.empty()) region = aws_profile_region().value_or("");
    endpoint = region.empty() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
  }
  const std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + form_encode(role) +
                           "&RoleSessionName=" + form_encode(session) + "&WebIdentityToken=" + form_encode(token);
  const Fetching how{30'000, false, {}, body};
  const Response response =
      fetch("POST", endpoint + "/", {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"}, how);
  if (response.status == 200) {
    if (auto found = parse_sts_answer(response.body, expires_)) return *found;
  }
  // STS names the problem in <Code> (InvalidIdentityToken, AccessDenied, ExpiredTokenException).
  const std::string code = element_text(response.body, "Code").value_or("");
  return common::Error{"STS AssumeRoleWithWebIdentity at " + redact_url(endpoint) + " for " + role +
                       " gave no credentials (" +
                       (response.error.empty() ? "HTTP " + std::to_string(response.status) : response.error) +
                       (code.empty() ? "" : " " + code) + ")"};
}

}  // namespace kerchunkfs::fetch
