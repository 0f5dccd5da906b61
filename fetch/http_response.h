// Checks an HTTP answer to a ranged GET, so that a short, long or misplaced body is an error
// and never data: the pure part of the HTTP source, kept apart so it can be tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kerchunkfs::fetch {

struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;              // inclusive
  std::optional<std::uint64_t> total;  // absent for "bytes a-b/*"
};

// Parses "bytes a-b/total" or "bytes a-b/*" (the header's value, any case, spaces trimmed).
std::optional<ContentRange> parse_content_range(std::string_view value);
// The total of an unsatisfied range, "bytes */total".
std::optional<std::uint64_t> parse_unsatisfied_total(std::string_view value);

struct RangeAnswer {
  long status = 0;
  std::string_view content_range;  // header value, empty when absent
  std::size_t body_size = 0;
};

struct RangeVerdict {
  bool ok = false;
  bool retry = false;             // worth asking again (transient server or network trouble)
  std::uint64_t body_offset = 0;  // where the wanted bytes start in the body
  std::uint64_t length = 0;       // how many of them there are: less than asked only at the end of the object
  std::string problem;            // when not ok: what was wrong, for the log
  std::optional<std::uint64_t> object_size;  // the whole object's size, when the answer tells it
};

// Judges the answer to "Range: bytes=offset-(offset+length-1)".
RangeVerdict judge_range_answer(const RangeAnswer& answer, std::uint64_t offset, std::uint64_t length);

// Statuses that are transient by definition: timeouts, throttling, server overload.
bool is_retryable_status(long status);

}  // namespace kerchunkfs::fetch
