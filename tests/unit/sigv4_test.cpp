#include <catch2/catch.hpp>

#include "fetch/sigv4.h"

using namespace kerchunkfs::fetch;

// The expected values are botocore's (python3-botocore 1.29, S3SigV4Auth with payload signing,
// the clock fixed at the request's time), an implementation independent of ours:
//   r = AWSRequest("GET", URL, headers={"Range": ...}); r.context["payload_signing_enabled"] = True
//   S3SigV4Auth(Credentials(KEY, SECRET, TOKEN), "s3", REGION).add_auth(r); r.headers["Authorization"]

TEST_CASE("SigV4 for a ranged S3 GET with a session token matches botocore") {
  SigV4Request request;
  request.host = "my-bucket.s3.eu-west-1.amazonaws.com";
  request.canonical_uri = "/path/to/data%20file.nc";
  request.range = "bytes=100-199";
  request.region = "eu-west-1";
  request.time = 1440938160;  // 2015-08-30T12:36:00Z
  const AwsCredentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSION/TOKEN+example="};
  const auto headers = sigv4_headers(request, credentials);
  REQUIRE(headers.size() == 4);
  CHECK(headers[0] ==
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
        "Signature=29b0c58f1a16fc60a42b8601b40f4ec8b32fdfb614163e8d6505ff4d6195a06e");
  CHECK(headers[1] == "x-amz-date: 20150830T123600Z");
  CHECK(headers[2] == "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(headers[3] == "x-amz-security-token: SESSION/TOKEN+example=");
}

TEST_CASE("SigV4 with x-amz-request-payer (requester pays) matches botocore") {
  // botocore given the same request with the header x-amz-request-payer: requester.
  SigV4Request request;
  request.host = "my-bucket.s3.eu-west-1.amazonaws.com";
  request.canonical_uri = "/path/to/data%20file.nc";
  request.range = "bytes=100-199";
  request.region = "eu-west-1";
  request.time = 1440938160;  // 2015-08-30T12:36:00Z
  request.requester_pays = true;
  const AwsCredentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSION/TOKEN+example="};
  const auto headers = sigv4_headers(request, credentials);
  REQUIRE(headers.size() == 5);
  CHECK(headers[0] ==
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-request-payer;x-amz-security-token, "
        "Signature=9b5fe8c8a3a4ad5d41c887758f96875e263003544ef0564840c570565a5aa47a");
  CHECK(headers[3] == "x-amz-request-payer: requester");
}

TEST_CASE("SigV4 for a path-style GET on a custom endpoint matches botocore") {
  SigV4Request request;
  request.host = "127.0.0.1:4568";
  request.canonical_uri = "/bucket/dir/key.h5";
  request.region = "us-east-1";
  request.time = 1795552205;  // 2026-11-24T20:30:05Z
  const auto headers = sigv4_headers(request, AwsCredentials{"S3RVER", "S3RVER", ""});
  REQUIRE(headers.size() == 3);
  CHECK(headers[0] ==
        "Authorization: AWS4-HMAC-SHA256 Credential=S3RVER/20261124/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=a335339f4dadebb869f0b83a7ffd5afd98ccb695a8229a5bc24f60b9092d3e51");
}

TEST_CASE("object keys are percent-encoded for the path, slashes kept") {
  CHECK(uri_encode_path("dir/a b+c=d~e_f.g-h") == "dir/a%20b%2Bc%3Dd~e_f.g-h");
  CHECK(uri_encode_path("caf\xc3\xa9") == "caf%C3%A9");
}
