// The one error convention for fallible calls: a Result holds the value or an Error, whose
// message is one line naming what failed (the file, key, URL or option) and why, and whose code is
// an errno value where one applies (EIO for a failed read). Results must be looked at
// ([[nodiscard]]); asynchronous calls hand a Result to their callback. Exceptions stay inside the
// parsers that unwind deep recursion with them, and never cross a module's public interface.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace kerchunkfs::common {

struct Error {
  std::string message;
  int code = EIO;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor): a value is a success
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor): an Error is a failure

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Success without a value.
struct Ok {};
using Status = Result<Ok>;

// "prefix: message" with the same code.
inline Error wrap(const Error& error, const std::string& prefix) {
  return Error{prefix + ": " + error.message, error.code};
}

}  // namespace kerchunkfs::common
