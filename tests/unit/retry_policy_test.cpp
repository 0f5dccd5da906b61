#include "fetch/retry_policy.h"

#include <catch2/catch.hpp>

using kerchunkfs::fetch::retry_delay;
using kerchunkfs::fetch::RetryPolicy;

TEST_CASE("retry delays double from the first, with jitter below each, within the cap") {
  std::mt19937_64 random(7);
  const RetryPolicy policy{200, 3000};
  for (unsigned attempt = 1; attempt <= 8; ++attempt) {
    const long ceiling = std::min(3000L, 200L << (attempt - 1));
    for (int i = 0; i < 50; ++i) {
      const long delay = retry_delay(policy, attempt, 500, "", random).count();
      CHECK(delay >= ceiling / 2);
      CHECK(delay <= ceiling);
    }
  }
}

TEST_CASE("a Retry-After on 429 and 503 is waited for, up to the cap; elsewhere it is not") {
  std::mt19937_64 random(7);
  const RetryPolicy policy{200, 3000};
  CHECK(retry_delay(policy, 1, 429, "2", random).count() == 2000);
  CHECK(retry_delay(policy, 1, 503, "60", random).count() == 3000);
  CHECK(retry_delay(policy, 1, 500, "2", random).count() <= 200);
  CHECK(retry_delay(policy, 1, 503, "soon", random).count() <= 200);
}
