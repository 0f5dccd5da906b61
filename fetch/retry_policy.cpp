#include "fetch/retry_policy.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace kerchunkfs::fetch {

std::chrono::milliseconds retry_delay(const RetryPolicy& policy, unsigned attempt, long status,
                                      std::string_view retry_after, std::mt19937_64& random) {
  const long ceiling = std::min(policy.max_delay_ms, policy.first_delay_ms << std::min(attempt - 1, 20u));
  long delay = std::uniform_int_distribution<long>(ceiling / 2, ceiling)(random);
  if ((status == 429 || status == 503) && !retry_after.empty()) {
    const long seconds = std::strtol(std::string(retry_after).c_str(), nullptr, 10);
    if (seconds > 0) delay = std::max(delay, std::min(seconds * 1000, policy.max_delay_ms));
  }
  return std::chrono::milliseconds(delay);
}

}  // namespace kerchunkfs::fetch
