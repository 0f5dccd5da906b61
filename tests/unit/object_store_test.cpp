#include <catch2/catch.hpp>

#include "fetch/aws_credentials.h"
#include "fetch/object_store.h"

using namespace kerchunkfs::fetch;

TEST_CASE("s3:// URLs map to virtual-hosted URLs on AWS and to path style elsewhere") {
  S3Options aws;
  aws.region = "eu-west-1";
  CHECK(s3_https_url("s3://bucket/dir/file 1.nc", aws) == "https://bucket.s3.eu-west-1.amazonaws.com/dir/file%201.nc");
  CHECK(s3_https_url("s3://my.dotted.bucket/k", aws) == "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
  S3Options path = aws;
  path.path_style = true;
  CHECK(s3_https_url("s3://bucket/k", path) == "https://s3.eu-west-1.amazonaws.com/bucket/k");
  S3Options custom = aws;
  custom.endpoint = "http://127.0.0.1:4568/";
  CHECK(s3_https_url("s3://bucket/a/b.h5", custom) == "http://127.0.0.1:4568/bucket/a/b.h5");
  CHECK_FALSE(s3_https_url("s3://bucket", aws));
  CHECK_FALSE(s3_https_url("s3:///key", aws));
}

TEST_CASE("gs:// URLs map to the public endpoint or the emulator") {
  CHECK(gcs_https_url("gs://bucket/a b.nc", "") == "https://storage.googleapis.com/bucket/a%20b.nc");
  CHECK(gcs_https_url("gcs://bucket/k", "localhost:4443") == "http://localhost:4443/bucket/k");
  CHECK(gcs_https_url("gs://bucket/k", "https://emulator/") == "https://emulator/bucket/k");
}

TEST_CASE("an STS AssumeRoleWithWebIdentity answer gives its credentials and expiry") {
  // As STS writes it (the token shortened), with an entity in the secret.
  const std::string answer =
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <AssumeRoleWithWebIdentityResult>\n"
      "    <SubjectFromWebIdentityToken>system:serviceaccount:ns:reader</SubjectFromWebIdentityToken>\n"
      "    <Credentials>\n"
      "      <SessionToken>FwoGZXIvYXdzE&amp;Xyz</SessionToken>\n"
      "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCY&lt;KEY</SecretAccessKey>\n"
      "      <Expiration>2026-12-01T20:00:00Z</Expiration>\n"
      "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
      "    </Credentials>\n"
      "  </AssumeRoleWithWebIdentityResult>\n"
      "</AssumeRoleWithWebIdentityResponse>\n";
  std::time_t expires = 0;
  const auto found = kerchunkfs::fetch::parse_sts_answer(answer, expires);
  REQUIRE(found);
  CHECK(found->access_key_id == "ASIAIOSFODNN7EXAMPLE");
  CHECK(found->secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCY<KEY");
  CHECK(found->session_token == "FwoGZXIvYXdzE&Xyz");
  CHECK(expires == 1796155200);  // date -d 2026-12-01T20:00:00Z +%s
  std::time_t unused = 0;
  CHECK_FALSE(
      kerchunkfs::fetch::parse_sts_answer("<ErrorResponse><Error><Code>AccessDenied</Code></Error>"
                                          "</ErrorResponse>",
                                          unused));
  CHECK_FALSE(kerchunkfs::fetch::parse_sts_answer("<Credentials><AccessKeyId>A</AccessKeyId>", unused));
}
