// Object stores read over HTTPS: s3:// (SigV4-signed unless anonymous) and gs:// / gcs://
// (anonymous). Each maps its URLs to HTTPS ones and reads them through the shared HttpEngine.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "fetch/aws_credentials.h"
#include "fetch/http_engine.h"
#include "fetch/http_source.h"

namespace kerchunkfs::fetch {

struct S3Options {
  std::string region;           // empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1
  std::string endpoint;         // empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS's own
  bool path_style = false;      // always on with a custom endpoint
  bool anonymous = false;       // unsigned requests, for public buckets
  std::string credentials_url;  // temporary keys from a DAAC-style s3credentials endpoint
  std::string netrc_file;       // logins for it
  bool requester_pays = false;  // the reader pays for requests to requester-pays buckets
};

// s3://bucket/key → its HTTPS URL: virtual-hosted (https://bucket.s3.region.amazonaws.com/key) on
// AWS, path style (endpoint/bucket/key) with a custom endpoint, when asked, or for bucket names
// with dots (which a virtual-hosted certificate cannot cover). Nothing for a malformed URL.
std::optional<std::string> s3_https_url(std::string_view url, const S3Options& options);
// gs://bucket/key → https://storage.googleapis.com/bucket/key, or under STORAGE_EMULATOR_HOST.
std::optional<std::string> gcs_https_url(std::string_view url, std::string_view emulator_host);
// The region S3 requests are signed for, after the fallbacks listed in S3Options.
std::string resolve_s3_region(const S3Options& options);
// The endpoint after the environment fallbacks; empty for AWS's own.
std::string resolve_s3_endpoint(const S3Options& options);

class ObjectStoreSource final : public ByteSource {
 public:
  using Mapper = std::function<std::optional<std::string>(std::string_view url)>;
  ObjectStoreSource(Mapper map, std::shared_ptr<HttpEngine> engine, RequestSigner signer = {});

  static std::shared_ptr<ObjectStoreSource> s3(const S3Options& options, std::shared_ptr<HttpEngine> engine);
  static std::shared_ptr<ObjectStoreSource> gcs(std::shared_ptr<HttpEngine> engine);

  void read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) override;
  void read_streaming(const std::string& url, std::uint64_t offset, std::size_t length, Progress progress,
                      ReadDone done) override;
  void size(const std::string& url, SizeDone done) override;
  void pin_version(const std::string& url, const std::string& validator) override;
  void stop() override { http_.stop(); }

 private:
  Mapper map_;
  HttpSource http_;
};

}  // namespace kerchunkfs::fetch
