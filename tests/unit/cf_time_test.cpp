#include <catch2/catch.hpp>

#include "scanner/cf_time.h"

using kerchunkfs::scanner::CfTimeUnits;

namespace {
CfTimeUnits units(const std::string& text, const std::string& calendar = "standard") {
  const auto parsed = CfTimeUnits::parse(text, calendar);
  INFO((parsed ? "" : parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}
// Days from `b`'s reference date to `a`'s, in `calendar`.
long double days_between(const std::string& a, const std::string& b, const std::string& calendar) {
  return (units("days since " + a, calendar).to_absolute(0) - units("days since " + b, calendar).to_absolute(0)) /
         86400;
}
}  // namespace

TEST_CASE("reference dates are counted in each calendar's own days") {
  CHECK(days_between("2000-01-01", "1999-12-01", "standard") == 31);
  CHECK(days_between("2000-03-01", "2000-02-01", "standard") == 29);             // 2000 is a leap year
  CHECK(days_between("1900-03-01", "1900-02-01", "proleptic_gregorian") == 28);  // 1900 is not
  CHECK(days_between("1900-03-01", "1900-02-01", "julian") == 29);               // but is in the Julian calendar
  CHECK(days_between("2000-03-01", "2000-02-01", "noleap") == 28);
  CHECK(days_between("2001-03-01", "2001-02-01", "all_leap") == 29);
  CHECK(days_between("2000-03-01", "2000-02-01", "360_day") == 30);
  CHECK(days_between("2001-01-01", "2000-01-01", "360_day") == 360);
  CHECK(days_between("1582-10-15", "1582-10-04", "standard") == 1);  // the Gregorian reform
  CHECK(days_between("1582-10-15", "1582-10-04", "proleptic_gregorian") == 11);
  CHECK(days_between("1970-01-01", "0001-01-01", "proleptic_gregorian") == 719162);
}

TEST_CASE("values convert between units and reference dates exactly") {
  const CfTimeUnits days = units("days since 2000-01-01");
  const CfTimeUnits hours = units("hours since 1999-12-31 12:00:00");
  CHECK(hours.from_absolute(days.to_absolute(1)) == 36);
  const CfTimeUnits minutes = units("minutes since 2000-01-01T00:00:00Z");
  CHECK(minutes.from_absolute(days.to_absolute(0.5)) == 720);
  const CfTimeUnits offset = units("seconds since 2000-01-01 02:00:00 +02:00");  // = midnight UTC
  CHECK(offset.from_absolute(days.to_absolute(0)) == 0);
}

TEST_CASE("units that are not a CF time are refused with the reason") {
  const auto months = CfTimeUnits::parse("months since 2000-01-01", "standard");
  REQUIRE_FALSE(months);
  CHECK(months.error().message.find("months since") != std::string::npos);
  CHECK_FALSE(CfTimeUnits::parse("K", "standard"));
  const auto martian = CfTimeUnits::parse("days since 2000-01-01", "martian");
  REQUIRE_FALSE(martian);
  CHECK(martian.error().message.find("martian") != std::string::npos);
}
