#include "refstore/json_cursor.h"

#include <bit>
#include <cstring>

namespace kerchunkfs::refstore {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Marks (high bit of each byte) the bytes that end the fast scan of a string: the quote, a
// backslash, a control character (the zero padding past the end among them), or a byte of a
// multi-byte UTF-8 sequence. A subtraction's borrow starts only at a marked byte, so the lowest
// mark is exact, which is the only one used.
std::uint64_t string_stops(std::uint64_t word) {
  const std::uint64_t quote = word ^ (kOnes * '"');
  const std::uint64_t backslash = word ^ (kOnes * '\\');
  return (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | ((word - kOnes * 0x20) & ~word) | word) &
         kHighBits;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

constexpr std::uint64_t kZeros = 0x3030303030303030ULL;  // eight '0' characters

// How many of a word's eight characters (the first in the lowest byte) are digits before the
// first that is not. A byte's +6 carries only out of a byte that is no digit, so past the count.
int leading_digits(std::uint64_t word) {
  constexpr std::uint64_t kHigh = 0xf0f0f0f0f0f0f0f0ULL;
  const std::uint64_t other = ((word & kHigh) ^ kZeros) | (((word + 0x0606060606060606ULL) & kHigh) ^ kZeros);
  return other == 0 ? 8 : std::countr_zero(other) / 8;
}

// The value of eight digit characters (the first in the lowest byte), three multiplications
// instead of eight (Lemire's method).
std::uint64_t eight_digits(std::uint64_t word) {
  constexpr std::uint64_t kPairs = 0x000000ff000000ffULL;
  word -= kZeros;
  word = word * 10 + (word >> 8);
  return (((word & kPairs) * (100 + (1000000ULL << 32))) + (((word >> 16) & kPairs) * (1 + (10000ULL << 32)))) >> 32;
}
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
bool in_range(char c, unsigned low, unsigned high) {
  const auto byte = static_cast<unsigned char>(c);
  return byte >= low && byte <= high;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

bool ends_word(char c) { return !(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'); }

// A canonical integer of at most 15 digits at `p` (zero padding after the document: a word
// read where a digit was is within it): its value, and where it ends, or null for anything else,
// longer numbers included, which the general path reads. What follows is the caller's to check.
const char* short_integer(const char* p, std::uint64_t& value) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  const int count = leading_digits(word);
  if (count == 0 || (*p == '0' && count > 1)) return nullptr;
  if (count < 8) {
    value = eight_digits((word << (8 * (8 - count))) | (kZeros >> (8 * count)));
    return p + count;
  }
  static constexpr std::uint64_t kPowers[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
  std::uint64_t rest = 0;
  std::memcpy(&rest, p + 8, sizeof rest);
  const int more = leading_digits(rest);
  if (more == 8) return nullptr;
  value = eight_digits(word) * kPowers[more];
  if (more > 0) value += eight_digits((rest << (8 * (8 - more))) | (kZeros >> (8 * more)));
  return p + 8 + more;
}

}  // namespace

std::string_view JsonCursor::string(std::string& scratch) {
  if (next() != '"') fail("expected a string");
  const char* content = ++at_;
  const char* p = content;
  while (true) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, sizeof word);  // within the padding at worst
    const std::uint64_t stops = string_stops(word);
    if (stops == 0) {
      p += sizeof word;
      continue;
    }
    p += std::countr_zero(stops) / 8;
    const auto byte = static_cast<unsigned char>(*p);
    if (byte == '"') {
      at_ = p + 1;
      return {content, static_cast<std::size_t>(p - content)};
    }
    if (byte == '\\') return unescape(content, scratch);
    if (byte < 0x20) fail_in_string(p);
    p = utf8_sequence_end(p);
  }
}

std::string_view JsonCursor::unescape(const char* content, std::string& scratch) {
  scratch.clear();
  const char* p = content;
  const auto code_unit = [&](const char* digits) {
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hex_digit(digits[i]);
      if (digit < 0) fail_at(digits - 2, "invalid \\u escape (four hexadecimal digits expected)");
      code = code << 4 | static_cast<unsigned>(digit);
    }
    return code;
  };
  while (true) {
    const auto byte = static_cast<unsigned char>(*p);
    if (byte == '"') {
      at_ = p + 1;
      return scratch;
    }
    if (byte >= 0x80) {
      const char* after = utf8_sequence_end(p);
      scratch.append(p, after);
      p = after;
      continue;
    }
    if (byte < 0x20) fail_in_string(p);
    if (byte != '\\') {
      scratch += *p++;
      continue;
    }
    const char escaped = p[1];
    p += 2;
    switch (escaped) {
      case '"':
      case '\\':
      case '/':
        scratch += escaped;
        break;
      case 'b':
        scratch += '\b';
        break;
      case 'f':
        scratch += '\f';
        break;
      case 'n':
        scratch += '\n';
        break;
      case 'r':
        scratch += '\r';
        break;
      case 't':
        scratch += '\t';
        break;
      case 'u': {
        unsigned code = code_unit(p);
        p += 4;
        if (code >= 0xDC00 && code <= 0xDFFF) fail_at(p - 6, "lone low surrogate in a \\u escape");
        if (code >= 0xD800 && code <= 0xDBFF) {
          const unsigned low = p[0] == '\\' && p[1] == 'u' ? code_unit(p + 2) : 0;
          if (low < 0xDC00 || low > 0xDFFF) fail_at(p - 6, "high surrogate in a \\u escape without its low surrogate");
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          p += 6;
        }
        append_utf8(scratch, code);
        break;
      }
      default:
        fail_at(p - 2, "invalid escape in a string");
    }
  }
}

// RFC 3629: the shortest form only, no surrogates, nothing past U+10FFFF.
const char* JsonCursor::utf8_sequence_end(const char* lead) const {
  const char* p = lead;
  bool valid = false;
  std::size_t length = 0;
  if (in_range(p[0], 0xC2, 0xDF)) {
    length = 2;
    valid = is_continuation(p[1]);
  } else if (in_range(p[0], 0xE0, 0xEF)) {
    length = 3;
    const unsigned low = static_cast<unsigned char>(p[0]) == 0xE0 ? 0xA0 : 0x80;
    const unsigned high = static_cast<unsigned char>(p[0]) == 0xED ? 0x9F : 0xBF;
    valid = in_range(p[1], low, high) && is_continuation(p[2]);
  } else if (in_range(p[0], 0xF0, 0xF4)) {
    length = 4;
    const unsigned low = static_cast<unsigned char>(p[0]) == 0xF0 ? 0x90 : 0x80;
    const unsigned high = static_cast<unsigned char>(p[0]) == 0xF4 ? 0x8F : 0xBF;
    valid = in_range(p[1], low, high) && is_continuation(p[2]) && is_continuation(p[3]);
  }
  if (!valid || lead + length > end_) fail_at(lead, "invalid UTF-8 in a string");
  return lead + length;
}

bool JsonCursor::unsigned_integer(std::uint64_t most, std::uint64_t& value) {
  next();
  const char* p = at_;  // at the end, the zero padding: not a digit
  const auto ends_well = [&](const char* after, std::uint64_t number) {
    return number <= most && *after != '.' && *after != 'e' && *after != 'E' && after <= end_;
  };
  std::uint64_t number = 0;
  if (const char* after = short_integer(p, number)) {  // the usual
    if (!ends_well(after, number)) return false;
    value = number;
    at_ = after;
    return true;
  }
  std::uint64_t first_word = 0;
  std::memcpy(&first_word, p, sizeof first_word);
  const int first_count = leading_digits(first_word);
  if (first_count == 0 || (*p == '0' && first_count > 1)) return false;
  // Sixteen digits or more. Nineteen cannot overflow 64 bits; more are too large for any limit
  // given here.
  constexpr std::ptrdiff_t kSafeDigits = 19;
  static constexpr std::uint64_t kPowers[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  const char* digits = p;
  // Eight characters at a time: a number's end is followed by the document's or the padding's.
  for (int count = 8; count == 8 && p - digits <= kSafeDigits; p += count) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, sizeof word);
    count = leading_digits(word);
    if (count == 0) break;
    // The digits moved to the word's end, '0's before them.
    const std::uint64_t aligned = count == 8 ? word : (word << (8 * (8 - count))) | (kZeros >> (8 * count));
    number = number * kPowers[count] + eight_digits(aligned);
  }
  if (p - digits > kSafeDigits || !ends_well(p, number)) return false;
  value = number;
  at_ = p;
  return true;
}

bool JsonCursor::plain_reference(std::string_view url, std::uint64_t most, std::uint64_t& offset,
                                 std::uint64_t& length) {
  const char* p = at_;
  p += *p == ' ' ? 1 : 0;
  // Bounds first: the URL is compared in one go, which may read all of its length.
  if (static_cast<std::size_t>(end_ - p) < url.size() + 4 || p[0] != '[' || p[1] != '"' ||
      std::memcmp(p + 2, url.data(), url.size()) != 0 || p[url.size() + 2] != '"' || p[url.size() + 3] != ',') {
    return false;
  }
  p += url.size() + 4;
  p += *p == ' ' ? 1 : 0;
  p = short_integer(p, offset);
  if (p == nullptr || *p != ',' || offset > most) return false;
  ++p;
  p += *p == ' ' ? 1 : 0;
  p = short_integer(p, length);
  if (p == nullptr || *p != ']' || length > most) return false;
  at_ = p + 1;
  return true;
}

bool JsonCursor::null_literal() {
  if (next() != 'n' || end_ - at_ < 4 || std::memcmp(at_, "null", 4) != 0 || !ends_word(at_[4])) return false;
  if (partial_ && at_ + 4 == end_) return false;  // the word may go on past the part read: the general path says so
  at_ += 4;
  return true;
}

// JSON's number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
const char* JsonCursor::number_end(const char* start) const {
  const char* p = start;
  if (*p == '-') ++p;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    while (is_digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (*p == '.') {
    ++p;
    if (!is_digit(*p)) return nullptr;
    while (is_digit(*p)) ++p;
  }
  if (*p == 'e' || *p == 'E') {
    ++p;
    if (*p == '+' || *p == '-') ++p;
    if (!is_digit(*p)) return nullptr;
    while (is_digit(*p)) ++p;
  }
  return p <= end_ && ends_word(*p) && *p != '.' ? p : nullptr;
}

std::string_view JsonCursor::value_text() {
  const char first = next();
  const char* start = at_;
  switch (first) {
    case '"': {
      std::string ignored;
      (void)string(ignored);
      break;
    }
    case '{':
    case '[': {
      // Delimited only: brackets counted outside strings, the text validated by the caller.
      std::uint64_t depth = 0;
      const char* p = at_;
      do {
        if (p >= end_) fail_at(start, "unterminated object or array");
        const char c = *p++;
        if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          --depth;
        } else if (c == '"') {
          while (p < end_ && *p != '"') p += *p == '\\' ? 2 : 1;
          ++p;
        }
      } while (depth > 0);
      at_ = p;
      break;
    }
    case 't':
    case 'f':
    case 'n': {
      const std::string_view word = first == 't' ? "true" : first == 'f' ? "false" : "null";
      if (static_cast<std::size_t>(end_ - at_) < word.size() || std::string_view(at_, word.size()) != word ||
          !ends_word(at_[word.size()])) {
        fail("invalid literal (true, false or null expected)");
      }
      // In a part of the document, a word its end stops ("null" of "nullx") may go on past it.
      if (partial_ && at_ + word.size() == end_) fail("a literal at the end of the part read");
      at_ += word.size();
      break;
    }
    default: {
      if (first == '\0' && at_ >= end_) fail("unexpected end of the document (a value expected)");
      const char* after = number_end(at_);
      if (after == nullptr) fail(first == '-' || is_digit(first) ? "invalid number" : "expected a value");
      // In a part of the document, a number its end stops may go on past it.
      if (partial_ && after == end_) fail("a number at the end of the part read");
      at_ = after;
    }
  }
  return {start, static_cast<std::size_t>(at_ - start)};
}

void JsonCursor::fail(const std::string& problem) const { fail_at(at_, problem); }

void JsonCursor::fail_at(const char* position, const std::string& problem) const {
  throw JsonSyntaxError("invalid JSON: " + problem + location(position));
}

// A byte below 0x20 inside a string: the zero padding past the end, or a raw control character.
void JsonCursor::fail_in_string(const char* position) const {
  fail_at(position, position >= end_ ? "unterminated string" : "control character in a string (JSON needs it escaped)");
}

std::string JsonCursor::location(const char* position) const {
  if (position < begin_ || position > end_) return "";
  std::size_t line = 1;
  const char* line_start = begin_;
  for (const char* p = begin_; p < position; ++p) {
    if (*p == '\n') {
      ++line;
      line_start = p + 1;
    }
  }
  return " at line " + std::to_string(line) + ", column " + std::to_string(position - line_start + 1);
}

}  // namespace kerchunkfs::refstore
