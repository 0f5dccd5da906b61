#include "fetch/object_store.h"

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "fetch/sigv4.h"

namespace kerchunkfs::fetch {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// "bucket" and "key" of scheme://bucket/key.
std::optional<std::pair<std::string_view, std::string_view>> bucket_and_key(std::string_view url) {
  const std::size_t start = url.find("://");
  if (start == std::string_view::npos) return std::nullopt;
  url.remove_prefix(start + 3);
  const std::size_t slash = url.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == url.size()) return std::nullopt;
  return std::pair{url.substr(0, slash), url.substr(slash + 1)};
}

std::string without_trailing_slash(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

// Host (with port) and path of an http(s) URL, as they are signed.
std::pair<std::string_view, std::string_view> host_and_path(std::string_view url) {
  url.remove_prefix(url.find("://") + 3);
  const std::size_t slash = url.find('/');
  return {url.substr(0, slash), slash == std::string_view::npos ? "/" : url.substr(slash)};
}

}  // namespace

std::string resolve_s3_region(const S3Options& options) {
  if (!options.region.empty()) return options.region;
  for (const char* variable : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string value = env(variable); !value.empty()) return value;
  }
  return aws_profile_region().value_or("us-east-1");
}

std::string resolve_s3_endpoint(const S3Options& options) {
  if (!options.endpoint.empty()) return without_trailing_slash(options.endpoint);
  for (const char* variable : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    if (const std::string value = env(variable); !value.empty()) return without_trailing_slash(value);
  }
  return "";
}

std::optional<std::string> s3_https_url(std::string_view url, const S3Options& options) {
  const auto parts = bucket_and_key(url);
  if (!parts) return std::nullopt;
  const auto [bucket, key] = *parts;
  const std::string path = uri_encode_path(key);
  const std::string endpoint = resolve_s3_endpoint(options);
  if (!endpoint.empty()) return endpoint + "/" + std::string(bucket) + "/" + path;
  const std::string region = resolve_s3_region(options);
  if (options.path_style || bucket.find('.') != std::string_view::npos) {
    return "https://s3." + region + ".amazonaws.com/" + std::string(bucket) + "/" + path;
  }
  return "https://" + std::string(bucket) + ".s3." + region + ".amazonaws.com/" + path;
}

std::optional<std::string> gcs_https_url(std::string_view url, std::string_view emulator_host) {
  const auto parts = bucket_and_key(url);
  if (!parts) return std::nullopt;
  std::string base =
      emulator_host.empty() ? "https://storage.googleapis.com" : without_trailing_slash(std::string(emulator_host));
  if (base.find("://") == std::string::npos) base = "http://" + base;
  return base + "/" + std::string(parts->first) + "/" + uri_encode_path(parts->second);
}

ObjectStoreSource::ObjectStoreSource(Mapper map, std::shared_ptr<HttpEngine> engine, RequestSigner signer)
    : map_(std::move(map)), http_(std::move(engine), std::move(signer)) {}

std::shared_ptr<ObjectStoreSource> ObjectStoreSource::s3(const S3Options& options, std::shared_ptr<HttpEngine> engine) {
  RequestSigner signer;
  if (!options.anonymous) {
    auto credentials =
        std::make_shared<AwsCredentialProvider>(CredentialSource{options.credentials_url, options.netrc_file});
    signer = [credentials, region = resolve_s3_region(options), pays = options.requester_pays](
                 const std::string& url, std::string_view range) -> common::Result<std::vector<std::string>> {
      const auto found = credentials->get();
      if (!found) return found.error();
      const auto [host, path] = host_and_path(url);
      SigV4Request request;
      request.host = host;
      request.canonical_uri = path;
      request.range = range;
      request.region = region;
      request.time = std::time(nullptr);
      request.requester_pays = pays;
      return sigv4_headers(request, *found);
    };
  }
  return std::make_shared<ObjectStoreSource>([options](std::string_view url) { return s3_https_url(url, options); },
                                             std::move(engine), std::move(signer));
}

std::shared_ptr<ObjectStoreSource> ObjectStoreSource::gcs(std::shared_ptr<HttpEngine> engine) {
  return std::make_shared<ObjectStoreSource>(
      [emulator = env("STORAGE_EMULATOR_HOST")](std::string_view url) { return gcs_https_url(url, emulator); },
      std::move(engine));
}

void ObjectStoreSource::read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) {
  const auto mapped = map_(url);
  if (!mapped) return done(common::Error{url + ": not a bucket/key URL", EINVAL});
  http_.read(*mapped, offset, length, std::move(done));
}

void ObjectStoreSource::read_streaming(const std::string& url, std::uint64_t offset, std::size_t length,
                                       Progress progress, ReadDone done) {
  const auto mapped = map_(url);
  if (!mapped) return done(common::Error{url + ": not a bucket/key URL", EINVAL});
  http_.read_streaming(*mapped, offset, length, std::move(progress), std::move(done));
}

void ObjectStoreSource::size(const std::string& url, SizeDone done) {
  const auto mapped = map_(url);
  if (!mapped) return done(common::Error{url + ": not a bucket/key URL", EINVAL});
  http_.size(*mapped, std::move(done));
}

void ObjectStoreSource::pin_version(const std::string& url, const std::string& validator) {
  if (const auto mapped = map_(url)) http_.pin_version(*mapped, validator);
}

}  // namespace kerchunkfs::fetch
