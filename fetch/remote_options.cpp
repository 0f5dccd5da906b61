#include "fetch/remote_options.h"

#include <unistd.h>

#include <array>
#include <climits>
#include <cstdlib>

namespace kerchunkfs::fetch {
namespace {

using common::Error;
using common::Ok;
using common::Status;

// Made absolute: the daemon changes to / when it detaches.
Status readable_file(std::string_view name, std::string_view value, std::string& into) {
  char resolved[PATH_MAX];
  if (::realpath(std::string(value).c_str(), resolved) == nullptr || ::access(resolved, R_OK) != 0) {
    return Error{std::string(name) + ": " + std::string(value) + ": cannot read it"};
  }
  into = resolved;
  return Ok{};
}

Status set_header(std::string_view v, RemoteAccess& a) {
  // A header field name is a token; neither part may break the request's lines.
  const std::size_t colon = v.find(':');
  const std::string_view name = v.substr(0, colon);
  const bool token =
      !name.empty() && name.find_first_not_of(
                           "!#$%&'*+-.^_`|~0123456789"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
  if (colon == std::string_view::npos || !token || v.find_first_of("\r\n") != std::string_view::npos) {
    return Error{"header: \"" + std::string(name) + "\" is not NAME:VALUE with a header name"};
  }
  std::string_view value = v.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  a.http.headers.push_back(std::string(name) + ": " + std::string(value));
  return Ok{};
}

Status set_auth_hosts(std::string_view v, RemoteAccess& a) {
  a.http.auth_hosts.clear();
  for (std::size_t start = 0; start <= v.size();) {
    const std::size_t end = std::min(v.find(':', start), v.size());
    if (end > start) a.http.auth_hosts.emplace_back(v.substr(start, end - start));
    start = end + 1;
  }
  if (a.http.auth_hosts.empty()) return Error{"auth_hosts: no host named"};
  return Ok{};
}

Status set_remote_protocol(std::string_view v, RemoteAccess& a) {
  if (v != "s3" && v != "gs" && v != "http" && v != "https") {
    return Error{"remote_protocol: " + std::string(v) + " is not s3, gs, http or https"};
  }
  a.remote_protocol = v;
  return Ok{};
}

constexpr std::array kRemoteOptions{
    RemoteOptionSpec{"netrc", "", "FILE",
                     "login credentials per host, netrc format (default: ~/.netrc when there is one)",
                     [](std::string_view v, RemoteAccess& a) {
                       Status read = readable_file("netrc", v, a.http.netrc_file);
                       a.s3.netrc_file = a.http.netrc_file;  // for s3_credentials_url too
                       return read;
                     }},
    RemoteOptionSpec{"bearer_token_file", "", "FILE",
                     "a bearer token, sent to the auth_hosts alone (read again when it changes)",
                     [](std::string_view v, RemoteAccess& a) {
                       return readable_file("bearer_token_file", v, a.http.bearer_token_file);
                     }},
    RemoteOptionSpec{"header", "", "NAME:VALUE", "a header sent to the auth_hosts alone; repeat for more", set_header,
                     true},
    RemoteOptionSpec{"auth_hosts", "", "HOST[:HOST...]", "hosts the bearer token goes to; *.example.org for subdomains",
                     set_auth_hosts},
    RemoteOptionSpec{"insecure", "", "", "do not verify TLS certificates",
                     [](std::string_view, RemoteAccess& a) -> Status {
                       a.http.insecure = true;
                       return Ok{};
                     }},
    RemoteOptionSpec{"s3_region", "", "REGION", "region of s3:// URLs (default: AWS_REGION, profile, us-east-1)",
                     [](std::string_view v, RemoteAccess& a) -> Status {
                       a.s3.region = v;
                       return Ok{};
                     }},
    RemoteOptionSpec{"s3_endpoint", "", "URL", "S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS)",
                     [](std::string_view v, RemoteAccess& a) -> Status {
                       a.s3.endpoint = v;
                       return Ok{};
                     }},
    RemoteOptionSpec{"s3_path_style", "", "", "path-style S3 URLs (always with a custom endpoint)",
                     [](std::string_view, RemoteAccess& a) -> Status {
                       a.s3.path_style = true;
                       return Ok{};
                     }},
    RemoteOptionSpec{"remote_protocol", "", "PROTOCOL", "s3, gs, http or https: the protocol of URLs without a scheme",
                     set_remote_protocol},
    RemoteOptionSpec{"s3_credentials_url", "", "URL",
                     "temporary S3 keys from this endpoint (a DAAC's s3credentials), with netrc logins",
                     [](std::string_view v, RemoteAccess& a) -> Status {
                       a.s3.credentials_url = v;
                       return Ok{};
                     }},
    RemoteOptionSpec{"requester_pays", "", "",
                     "send x-amz-request-payer: requester (the reader pays the bucket's requests)",
                     [](std::string_view, RemoteAccess& a) -> Status {
                       a.s3.requester_pays = true;
                       return Ok{};
                     }},
    RemoteOptionSpec{"anon", "--anonymous", "", "unsigned S3 requests (public buckets)",
                     [](std::string_view, RemoteAccess& a) -> Status {
                       a.s3.anonymous = true;
                       return Ok{};
                     }},
};

}  // namespace

std::span<const RemoteOptionSpec> remote_option_table() { return kRemoteOptions; }

std::string scanner_spelling(const RemoteOptionSpec& option) {
  if (!option.scanner_name.empty()) return std::string(option.scanner_name);
  std::string name = "--" + std::string(option.name);
  for (char& c : name) c = c == '_' ? '-' : c;
  return name;
}

std::optional<std::string_view> unbounded_credentials(const HttpOptions& http) {
  if (!http.auth_hosts.empty()) return std::nullopt;
  if (!http.bearer_token_file.empty()) return "bearer_token_file";
  if (!http.headers.empty()) return "header";
  return std::nullopt;
}

}  // namespace kerchunkfs::fetch
