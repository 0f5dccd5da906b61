// CF time coordinates ("days since 2000-01-01", with a calendar): what one value means, so that
// files encoded against different reference dates combine onto one axis.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"

namespace kerchunkfs::scanner {

class CfTimeUnits {
 public:
  // Nothing with `why` when `units` is not "<unit> since <date>" in a calendar this knows
  // (standard/gregorian, proleptic_gregorian, julian, noleap/365_day, all_leap/366_day, 360_day).
  [[nodiscard]] static common::Result<CfTimeUnits> parse(const std::string& units, const std::string& calendar);

  // Seconds from the calendar's day zero to the instant `value` units after the reference date.
  long double to_absolute(long double value) const;
  // The value, in these units, of an instant given as seconds from the calendar's day zero.
  long double from_absolute(long double seconds) const;
  long double unit_seconds() const { return unit_seconds_; }
  const std::string& calendar() const { return calendar_; }

 private:
  long double unit_seconds_ = 0;
  long double reference_seconds_ = 0;  // the reference date, from the calendar's day zero
  std::string calendar_;               // normalised name
};

}  // namespace kerchunkfs::scanner
