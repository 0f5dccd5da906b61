#include "fetch/http_response.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace kerchunkfs::fetch {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

// The part after "bytes ", or nothing when the unit is not bytes.
std::optional<std::string_view> bytes_spec(std::string_view value) {
  value = trim(value);
  constexpr std::string_view kUnit = "bytes";
  if (value.size() <= kUnit.size()) return std::nullopt;
  for (std::size_t i = 0; i < kUnit.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kUnit[i]) return std::nullopt;
  }
  return trim(value.substr(kUnit.size()));
}

}  // namespace

std::optional<ContentRange> parse_content_range(std::string_view value) {
  const auto spec = bytes_spec(value);
  if (!spec) return std::nullopt;
  const std::size_t dash = spec->find('-');
  const std::size_t slash = spec->find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) return std::nullopt;
  ContentRange range;
  if (!parse_number(spec->substr(0, dash), range.first) ||
      !parse_number(spec->substr(dash + 1, slash - dash - 1), range.last) || range.last < range.first) {
    return std::nullopt;
  }
  const std::string_view total = spec->substr(slash + 1);
  if (total != "*") {
    std::uint64_t number = 0;
    if (!parse_number(total, number) || number <= range.last) return std::nullopt;
    range.total = number;
  }
  return range;
}

std::optional<std::uint64_t> parse_unsatisfied_total(std::string_view value) {
  const auto spec = bytes_spec(value);
  if (!spec || !spec->starts_with("*/")) return std::nullopt;
  std::uint64_t total = 0;
  if (!parse_number(spec->substr(2), total)) return std::nullopt;
  return total;
}

bool is_retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

RangeVerdict judge_range_answer(const RangeAnswer& answer, std::uint64_t offset, std::uint64_t length) {
  RangeVerdict verdict;
  const auto bad = [&](std::string problem, bool retry) {
    verdict.problem = std::move(problem);
    verdict.retry = retry;
    return verdict;
  };
  if (answer.status == 206) {
    const auto range = parse_content_range(answer.content_range);
    if (!range)
      return bad("206 with a missing or malformed Content-Range \"" + std::string(answer.content_range) + "\"", true);
    const std::uint64_t wanted_last = offset + length - 1;
    const bool ends_early = range->total && range->last + 1 == *range->total && range->last < wanted_last;
    if (range->first != offset || (range->last != wanted_last && !ends_early)) {
      return bad("206 for bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                     ", not the requested " + std::to_string(offset) + "-" + std::to_string(wanted_last),
                 true);
    }
    const std::uint64_t expected = range->last - range->first + 1;
    if (answer.body_size != expected) {
      return bad(
          "206 body has " + std::to_string(answer.body_size) + " bytes, Content-Range says " + std::to_string(expected),
          true);
    }
    verdict.ok = true;
    verdict.length = expected;
    verdict.object_size = range->total;
    return verdict;
  }
  if (answer.status == 200) {
    // The server ignored Range and sent the whole object: the wanted bytes are a slice of it.
    verdict.ok = true;
    verdict.body_offset = std::min<std::uint64_t>(offset, answer.body_size);
    verdict.length = std::min<std::uint64_t>(length, answer.body_size - verdict.body_offset);
    verdict.object_size = answer.body_size;
    return verdict;
  }
  if (answer.status == 416) {
    // The object ends before the range starts: no bytes.
    verdict.ok = true;
    verdict.object_size = parse_unsatisfied_total(answer.content_range);
    return verdict;
  }
  return bad("HTTP " + std::to_string(answer.status), is_retryable_status(answer.status));
}

}  // namespace kerchunkfs::fetch
