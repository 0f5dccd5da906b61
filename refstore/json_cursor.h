// A strict JSON scanner that walks a document front to back without indexing it first, for the
// reference-set parser: a set of ten million keys is read in one pass, with no structural index
// (simdjson's stage 1 keeps four bytes per brace, quote, colon and comma: 40 bytes a reference)
// and no tree. It reads values of the shapes a set is made of (strings, integers, literals);
// other nested values are only delimited here and validated by the caller.
//
// The buffer must have at least 64 zero bytes past the document's end (simdjson's padding, which
// both of the parser's inputs have): strings are scanned eight bytes at a time and an
// unterminated one stops at the first zero.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "refstore/load_error.h"

namespace kerchunkfs::refstore {

// Malformed JSON, as the cursor finds it: the parser adds the key it was reading.
class JsonSyntaxError : public LoadError {
 public:
  using LoadError::LoadError;
};

class JsonCursor {
 public:
  // `partial`: [begin, end) is a part of the document that stops before its end, so a number or
  // a literal that reaches `end` may go on past it: value_text refuses it (the caller reads it
  // again from more of the document).
  JsonCursor(const char* begin, const char* end, bool partial = false)
      : begin_(begin), end_(end), at_(begin), partial_(partial) {}

  const char* position() const { return at_; }
  void move_to(const char* position) { at_ = position; }
  const char* begin() const { return begin_; }
  const char* end() const { return end_; }

  // Skips whitespace and returns the byte there, '\0' at the end of the document.
  char next() {
    while (at_ < end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
    return at_ < end_ ? *at_ : '\0';
  }
  // Skips whitespace and the expected byte; anything else is an error naming `what` was expected.
  void expect(char expected, const char* what) {
    if (next() != expected) fail(std::string("expected ") + what);
    ++at_;
  }
  // Moves past the byte that next() returned.
  void skip_byte() { ++at_; }

  // The string at the cursor (after whitespace), which must start with '"'. Without escapes it
  // is returned where it lies in the document; with them, unescaped into `scratch`. Control
  // characters, bad escapes, lone surrogates and invalid UTF-8 are errors.
  std::string_view string(std::string& scratch);

  // When the string at the cursor is exactly `text` (no escapes), moves past it and says so.
  bool string_equals(std::string_view text) {
    if (static_cast<std::size_t>(end_ - at_) < text.size() + 2 || at_[0] != '"' || at_[text.size() + 1] != '"' ||
        std::string_view(at_ + 1, text.size()) != text) {
      return false;
    }
    at_ += text.size() + 2;
    return true;
  }

  // Reads a non-negative integer no larger than `most` into `value`. Anything else (too large,
  // a fraction, an exponent, a sign, another type) returns false with the cursor left at it.
  bool unsigned_integer(std::uint64_t most, std::uint64_t& value);

  // Reads `["URL", offset, length]` when it is written as kerchunk and most writers print it:
  // no space or one after ':' and each ',', the URL exactly `url` (which must be as it is written:
  // no escapes), offset and length integers of at most 15 digits no larger than `most`. Anything
  // else returns false with the cursor unmoved: the general path reads it and names what is wrong.
  [[nodiscard]] bool plain_reference(std::string_view url, std::uint64_t most, std::uint64_t& offset,
                                     std::uint64_t& length);

  // Moves past `null` and says so; anything else stays.
  bool null_literal();

  // Moves past the value at the cursor and returns its text. Numbers and the literals true,
  // false and null are checked here; objects and arrays are only delimited (strings inside them
  // skipped), so the caller validates their text with a full parser.
  std::string_view value_text();

  // Throws JsonSyntaxError: "invalid JSON: ", `problem` and the cursor's line and column.
  [[noreturn]] void fail(const std::string& problem) const;
  // The same, at another position.
  [[noreturn]] void fail_at(const char* position, const std::string& problem) const;
  // " at line L, column C" for a position in the document.
  std::string location(const char* position) const;

 private:
  std::string_view unescape(const char* content, std::string& scratch);
  [[noreturn]] void fail_in_string(const char* position) const;
  const char* utf8_sequence_end(const char* lead) const;
  const char* number_end(const char* start) const;

  const char* begin_;
  const char* end_;
  const char* at_;
  bool partial_;
};

}  // namespace kerchunkfs::refstore
