#include <catch2/catch.hpp>

#include "fetch/http_response.h"
#include "fetch/url.h"

using namespace kerchunkfs::fetch;

TEST_CASE("Content-Range values are parsed strictly") {
  const auto range = parse_content_range("bytes 100-199/1000");
  REQUIRE(range);
  CHECK(range->first == 100);
  CHECK(range->last == 199);
  CHECK(range->total == 1000u);
  CHECK(parse_content_range("Bytes 0-0/*")->total == std::nullopt);
  CHECK_FALSE(parse_content_range("bytes 10-5/100"));  // last before first
  CHECK_FALSE(parse_content_range("bytes 0-99/50"));   // total smaller than the range
  CHECK_FALSE(parse_content_range("items 0-9/10"));
  CHECK_FALSE(parse_content_range("bytes 0-x/10"));
  CHECK_FALSE(parse_content_range(""));
  CHECK(parse_unsatisfied_total("bytes */4096") == 4096u);
}

TEST_CASE("a 206 answer must be exactly the requested range") {
  CHECK(judge_range_answer({206, "bytes 100-199/1000", 100}, 100, 100).ok);
  const auto shifted = judge_range_answer({206, "bytes 101-200/1000", 100}, 100, 100);
  CHECK_FALSE(shifted.ok);
  CHECK(shifted.retry);
  CHECK_THAT(shifted.problem, Catch::Contains("not the requested 100-199"));
  const auto short_body = judge_range_answer({206, "bytes 100-199/1000", 60}, 100, 100);
  CHECK_FALSE(short_body.ok);
  CHECK_THAT(short_body.problem, Catch::Contains("60 bytes"));
  CHECK_FALSE(judge_range_answer({206, "", 100}, 100, 100).ok);
}

TEST_CASE("a range past the end of the object is short only where the object ends") {
  const auto at_end = judge_range_answer({206, "bytes 900-999/1000", 100}, 900, 500);
  CHECK(at_end.ok);
  CHECK(at_end.length == 100);
  CHECK(at_end.object_size == 1000u);
  CHECK(judge_range_answer({206, "bytes 0-99/*", 100}, 0, 100).object_size == std::nullopt);
  CHECK_FALSE(judge_range_answer({206, "bytes 900-949/1000", 50}, 900, 500).ok);  // short, yet not at the end
  const auto beyond = judge_range_answer({416, "bytes */1000", 0}, 2000, 10);
  CHECK(beyond.ok);
  CHECK(beyond.length == 0);
  CHECK(beyond.object_size == 1000u);
}

TEST_CASE("a 200 answer (Range ignored) is sliced to the requested bytes") {
  const auto whole = judge_range_answer({200, "", 1000}, 100, 50);
  CHECK(whole.ok);
  CHECK(whole.body_offset == 100);
  CHECK(whole.length == 50);
  CHECK(whole.object_size == 1000u);
  CHECK(judge_range_answer({200, "", 120}, 100, 50).length == 20);
}

TEST_CASE("transient statuses are retried, other errors are not") {
  for (const long status : {408L, 429L, 500L, 502L, 503L, 504L}) CHECK(judge_range_answer({status, "", 0}, 0, 1).retry);
  for (const long status : {400L, 401L, 403L, 404L, 410L}) {
    const auto verdict = judge_range_answer({status, "", 0}, 0, 1);
    CHECK_FALSE(verdict.ok);
    CHECK_FALSE(verdict.retry);
    CHECK(verdict.problem == "HTTP " + std::to_string(status));
  }
}

TEST_CASE("URLs in log lines keep no passwords, signatures or tokens") {
  CHECK(redact_url("https://user:hunter2@host:8443/a/b?x=1") == "https://user:***@host:8443/a/b?x=1");
  CHECK(redact_url("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc&partNumber=2") ==
        "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&partNumber=2");
  CHECK(redact_url("https://acct.blob.core.windows.net/c/f.nc?sv=2020&sig=SECRET#frag") ==
        "https://acct.blob.core.windows.net/c/f.nc?sv=2020&sig=***#frag");
  CHECK(redact_url("https://host/f.nc?token=t&flag") == "https://host/f.nc?token=***&flag");
  CHECK(redact_url("/plain/path.nc") == "/plain/path.nc");
  CHECK(redact_url("https://user@host/x") == "https://user@host/x");
}
