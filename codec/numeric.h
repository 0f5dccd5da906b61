// Numbers of a numpy dtype read, converted and written the way numpy does it. Private to codec/.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "codec/stage.h"

namespace kerchunkfs::codec {

template <class T>
T load(const char* at, bool swapped) {
  T value;
  char bytes[sizeof(T)];
  std::memcpy(bytes, at, sizeof(T));
  if (swapped) std::reverse(bytes, bytes + sizeof(T));
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

template <class T>
void store(char* at, T value, bool swapped) {
  std::memcpy(at, &value, sizeof(T));
  if (swapped) std::reverse(at, at + sizeof(T));
}

// Calls `visit` with a value of the C++ type of `type`.
template <class Visit>
auto with_type(const Numeric& type, Visit&& visit) {
  switch (type.kind) {
    case 'i':
      switch (type.size) {
        case 1:
          return visit(std::int8_t{});
        case 2:
          return visit(std::int16_t{});
        case 4:
          return visit(std::int32_t{});
        default:
          return visit(std::int64_t{});
      }
    case 'u':
      switch (type.size) {
        case 1:
          return visit(std::uint8_t{});
        case 2:
          return visit(std::uint16_t{});
        case 4:
          return visit(std::uint32_t{});
        default:
          return visit(std::uint64_t{});
      }
    default:
      return type.size == 4 ? visit(float{}) : visit(double{});
  }
}

// numpy's astype: integers wrap, floats round to the nearer width, floats truncate toward zero
// into integers (a value an integer cannot hold becomes its lowest, as x86 does).
template <class To, class From>
To cast_as(From value) {
  if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    // [lowest, 2^digits): exact bounds in any float width.
    const auto lowest = static_cast<From>(std::numeric_limits<To>::min());
    const auto above = static_cast<From>(std::ldexp(1.0, std::numeric_limits<To>::digits));
    if (!(value >= lowest && value < above)) return std::numeric_limits<To>::min();
    return static_cast<To>(value);
  } else if constexpr (std::is_same_v<To, float> && std::is_same_v<From, double>) {
    if (std::isfinite(value) && std::fabs(value) > std::numeric_limits<float>::max()) {
      return value > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
    }
    return static_cast<float>(value);
  } else {
    return static_cast<To>(value);
  }
}

// Integer sums wrap as numpy's do (unsigned arithmetic: no undefined overflow).
template <class T>
T add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}

}  // namespace kerchunkfs::codec
