// AWS credentials, found the way AWS tools find them: the environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then a web identity (AWS_WEB_IDENTITY_TOKEN_FILE and
// AWS_ROLE_ARN, or the profile's web_identity_token_file and role_arn: STS
// AssumeRoleWithWebIdentity, at AWS_ENDPOINT_URL_STS when set), then the shared files
// (~/.aws/credentials and ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE,
// profile AWS_PROFILE or "default": keys, or a credential_process), then a container endpoint
// (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN), then the EC2 instance
// metadata service (IMDSv2: AWS_EC2_METADATA_SERVICE_ENDPOINT, unless AWS_EC2_METADATA_DISABLED=true). Or, when given,
// a credentials URL alone: the temporary keys NASA's DAACs serve at .../s3credentials (accessKeyId, secretAccessKey,
// sessionToken, expiration), fetched with netrc logins, cookies and redirects (the Earthdata Login flow). Temporary
// credentials are fetched again before they expire: five minutes before, or halfway through a shorter life. Secrets are
// never logged.
#pragma once

#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

#include "fetch/sigv4.h"

namespace kerchunkfs::fetch {

// The region set in the shared config file for the active profile, if any.
std::optional<std::string> aws_profile_region();

// The credentials in an STS AssumeRoleWithWebIdentity answer (XML: Credentials' AccessKeyId,
// SecretAccessKey, SessionToken, Expiration, which sets `expires`); nothing when any is missing.
std::optional<AwsCredentials> parse_sts_answer(std::string_view xml, std::time_t& expires);

struct CredentialSource {
  std::string url;         // a DAAC-style s3credentials endpoint; empty: the AWS chain
  std::string netrc_file;  // logins for it (empty: ~/.netrc when there is one)
};

class AwsCredentialProvider {
 public:
  explicit AwsCredentialProvider(CredentialSource source = {}) : source_(std::move(source)) {}
  // Current credentials, looking them up or refreshing them when needed; a failure says where
  // it looked.
  [[nodiscard]] common::Result<AwsCredentials> get();

 private:
  common::Result<AwsCredentials> lookup();
  common::Result<AwsCredentials> from_url();
  common::Result<AwsCredentials> from_web_identity(const std::string& token_file, const std::string& role,
                                                   std::string session);

  const CredentialSource source_;
  std::mutex mutex_;
  std::optional<AwsCredentials> cached_;
  std::time_t expires_ = 0;  // 0: never
  std::time_t fetched_ = 0;  // when the cached credentials came
};

}  // namespace kerchunkfs::fetch
