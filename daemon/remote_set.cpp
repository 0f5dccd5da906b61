#include "daemon/remote_set.h"

#include <future>

#include "fetch/url.h"
#include "refstore/compression.h"

namespace kerchunkfs::daemon {

using common::Error;
using common::Result;

bool is_remote_set(std::string_view refs) {
  const std::size_t scheme = refs.find("://");
  return scheme != std::string_view::npos && scheme > 0 && refs.substr(0, scheme) != "file";
}

bool is_remote_parquet_set(std::string_view url) {
  return is_remote_set(url) && (url.ends_with(".parq") || url.ends_with(".parq/") || url.ends_with("/"));
}

std::string without_trailing_slash(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url);
}

std::string set_object(std::string_view url) {
  return is_remote_parquet_set(url) ? without_trailing_slash(url) + "/.zmetadata" : std::string(url);
}

std::string remote_directory(std::string_view url) {
  const std::string trimmed = without_trailing_slash(url);
  url = trimmed;
  const std::size_t start = url.find("://") + 3;
  const std::size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos || slash < start ? url : url.substr(0, slash));
}

namespace {

Result<fetch::ReadAnswer> read_now(const std::string& url, const fetch::SourceRegistry& sources, std::uint64_t length) {
  fetch::ByteSource* source = sources.find(url);
  if (source == nullptr) return Error{"no source for its scheme (these are: " + sources.schemes() + ")"};
  std::promise<Result<fetch::ReadAnswer>> promise;
  auto answer = promise.get_future();
  source->read(url, 0, length, [&promise](Result<fetch::ReadAnswer> result) { promise.set_value(std::move(result)); });
  return answer.get();
}

}  // namespace

Result<std::string> remote_version(const std::string& url, const fetch::SourceRegistry& sources) {
  auto read = read_now(url, sources, 1);
  if (!read) return Error{fetch::redact_url(url) + ": " + read.error().message};
  return std::move(read->validator);
}

Result<std::string> fetch_remote_set(const std::string& url, const fetch::SourceRegistry& sources,
                                     std::uint64_t most_bytes) {
  const std::string shown = fetch::redact_url(url);
  // One read of the whole object: a byte more than allowed tells a set too large from one that fits.
  Result<fetch::ReadAnswer> read = read_now(url, sources, most_bytes + 1);
  if (!read) return Error{shown + ": " + read.error().message, read.error().code};
  std::string bytes = std::move(read->bytes);
  if (bytes.size() > most_bytes) {
    return Error{shown + ": larger than " + std::to_string(most_bytes) + " bytes, the most a reference set may be"};
  }
  const refstore::Compression compression = refstore::detect_compression(bytes);
  if (compression == refstore::Compression::None) return bytes;
  return refstore::decompress(bytes, compression, shown, most_bytes);
}

}  // namespace kerchunkfs::daemon
