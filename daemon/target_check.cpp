#include "daemon/target_check.h"

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "fetch/target_policy.h"
#include "fetch/url.h"

namespace kerchunkfs::daemon {
namespace {

using refstore::EntryKind;
using refstore::NodeId;

// The file's real path when it exists; the path made absolute and normal otherwise (it cannot
// be read then anyway, but ".." must not walk out of an allowed directory on paper either).
std::string real_path_of(const std::string& path) {
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) != nullptr) return real;
  std::error_code error;
  return std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error).string();
}

std::optional<std::string> refusal(const std::string& url, const fetch::SourceRegistry& sources,
                                   const FilesystemOptions& options) {
  const fetch::HttpOptions& http = options.fetch.http;
  const std::string_view scheme = fetch::url_scheme(url);
  if (sources.find(url) == nullptr) {
    return "scheme \"" + std::string(scheme) + "\" is not supported (supported: " + sources.schemes() + ")";
  }
  if (scheme == "file") {
    const std::string path = url.starts_with("file://") ? url.substr(7) : url;
    if (options.local_roots.empty()) {
      return std::string("local files are read only with -o allow_local=DIR naming the directories they may lie in");
    }
    const std::string real = real_path_of(path);
    if (!fetch::path_under(real, options.local_roots)) {
      return (real == path ? std::string() : "it resolves to " + real + ", ") +
             "outside the directories -o allow_local allows";
    }
    return std::nullopt;
  }
  if (scheme == "http" || scheme == "https") {
    const std::string host = fetch::url_host(url);
    if (!fetch::host_allowed(host, http.allowed_hosts)) return "host " + host + " is not among -o allow_hosts";
    if (!http.allow_link_local && fetch::is_link_local_literal(host)) {
      return "a link-local address, such as a cloud's instance metadata service, is no data target (-o "
             "allow_link_local)";
    }
  }
  return std::nullopt;  // object stores: their request hosts are checked as connections are made
}

}  // namespace

std::optional<std::string> target_refusal(const std::string& url, const fetch::SourceRegistry& sources,
                                          const FilesystemOptions& options) {
  return refusal(url, sources, options);
}

common::Status check_targets(const refstore::RefStore& store, const fetch::SourceRegistry& sources,
                             const FilesystemOptions& options) {
  std::vector<std::optional<std::string>> refused(store.url_count());
  bool any = false;
  for (std::uint32_t i = 0; i < store.url_count(); ++i) {
    refused[i] = refusal(store.url(i), sources, options);
    any = any || refused[i].has_value();
  }
  if (!any) return common::Ok{};
  std::optional<common::Error> first;
  store.for_each_entry([&](NodeId node, const refstore::Entry& entry) {
    if (!first && (entry.kind == EntryKind::Range || entry.kind == EntryKind::WholeFile) && refused[entry.url]) {
      first = common::Error{"key \"" + store.key(node) + "\": URL " + fetch::redact_url(store.url(entry.url)) + ": " +
                            *refused[entry.url]};
    }
  });
  if (first) return *first;
  return common::Ok{};  // only keys given again later used it: nothing will ever read it
}

}  // namespace kerchunkfs::daemon
