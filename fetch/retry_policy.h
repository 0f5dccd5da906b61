// How long a failed request waits before its next attempt: exponential backoff from
// -o retry_delay, capped, with jitter so that many clients do not return together, and at least
// what a 429 or 503's Retry-After asks (within the cap). Private to fetch/.
#pragma once

#include <chrono>
#include <random>
#include <string_view>

namespace kerchunkfs::fetch {

struct RetryPolicy {
  long first_delay_ms = 200;
  long max_delay_ms = 10'000;
};

// The delay before attempt `attempt` + 1 of a request whose last answer was `status` (0: none)
// with this Retry-After header (empty: none).
std::chrono::milliseconds retry_delay(const RetryPolicy& policy, unsigned attempt, long status,
                                      std::string_view retry_after, std::mt19937_64& random);

}  // namespace kerchunkfs::fetch
