#include "scanner/cf_time.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace kerchunkfs::scanner {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

long long floor_div(long long a, long long b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Day numbers (any fixed origin per calendar: only differences are used).
long long gregorian_days(long long y, int m, int d) {
  // Howard Hinnant's days_from_civil, proleptic Gregorian.
  y -= m <= 2;
  const long long era = floor_div(y, 400);
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

long long julian_days(long long y, int m, int d) {
  y -= m <= 2;
  const long long era = floor_div(y, 4);
  const long long yoe = y - era * 4;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 1461 + yoe * 365 + doy;  // origin arbitrary: only differences are used
}

long long fixed_year_days(long long y, int m, int d, int year_length) {
  static constexpr int kCumulative365[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  static constexpr int kCumulative366[] = {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335};
  if (year_length == 360) return y * 360 + (m - 1) * 30 + (d - 1);
  return y * year_length + (year_length == 365 ? kCumulative365 : kCumulative366)[m - 1] + (d - 1);
}

}  // namespace

common::Result<CfTimeUnits> CfTimeUnits::parse(const std::string& units, const std::string& calendar_name) {
  static const std::map<std::string, long double> kUnits = {
      {"second", 1},   {"seconds", 1}, {"sec", 1},     {"secs", 1},     {"s", 1},        {"minute", 60},
      {"minutes", 60}, {"min", 60},    {"mins", 60},   {"hour", 3600},  {"hours", 3600}, {"hr", 3600},
      {"hrs", 3600},   {"h", 3600},    {"day", 86400}, {"days", 86400}, {"d", 86400}};
  static const std::map<std::string, std::string> kCalendars = {
      {"", "standard"},          {"standard", "standard"},
      {"gregorian", "standard"}, {"proleptic_gregorian", "proleptic_gregorian"},
      {"julian", "julian"},      {"noleap", "noleap"},
      {"365_day", "noleap"},     {"all_leap", "all_leap"},
      {"366_day", "all_leap"},   {"360_day", "360_day"}};
  const std::string text = lower(trim(units));
  const auto since = text.find(" since ");
  const auto unit = since == std::string::npos ? kUnits.end() : kUnits.find(trim(text.substr(0, since)));
  if (unit == kUnits.end()) {
    return common::Error{"units \"" + units + "\" are not \"<seconds|minutes|hours|days> since <date>\""};
  }
  const auto calendar = kCalendars.find(lower(trim(calendar_name)));
  if (calendar == kCalendars.end()) {
    return common::Error{"calendar \"" + calendar_name + "\" is not one this knows"};
  }
  // <date>: Y-M-D, then optionally [T ]h:m:s[.f], then optionally Z, UTC or a ±hh[:mm] offset.
  long long year = 0;
  int month = 0, day = 0, hour = 0, minute = 0, used = 0;
  double second = 0;
  std::string date = trim(text.substr(since + 7));
  for (char& c : date)
    if (c == 't') c = ' ';
  if (std::sscanf(date.c_str(), "%lld-%d-%d%n", &year, &month, &day, &used) < 3 || month < 1 || month > 12 || day < 1 ||
      day > 31) {
    return common::Error{"units \"" + units + "\" have no reference date as year-month-day"};
  }
  std::string rest = trim(date.substr(static_cast<std::size_t>(used)));
  int time_used = 0;
  if (!rest.empty() && std::sscanf(rest.c_str(), "%d:%d:%lf%n", &hour, &minute, &second, &time_used) >= 2) {
    if (time_used == 0) std::sscanf(rest.c_str(), "%d:%d%n", &hour, &minute, &time_used);
    rest = trim(rest.substr(static_cast<std::size_t>(time_used)));
  }
  long double zone_seconds = 0;
  if (rest == "z" || rest == "utc" || rest == "gmt" || rest.empty()) {
  } else if (rest[0] == '+' || rest[0] == '-') {
    int zone_hours = 0, zone_minutes = 0;
    const std::string digits = rest.substr(1);
    if (digits.find(':') != std::string::npos) {
      std::sscanf(digits.c_str(), "%d:%d", &zone_hours, &zone_minutes);
    } else {
      const int packed = std::atoi(digits.c_str());
      digits.size() > 2 ? (zone_hours = packed / 100, zone_minutes = packed % 100) : zone_hours = packed;
    }
    zone_seconds = (rest[0] == '+' ? -1 : 1) * (zone_hours * 3600.0L + zone_minutes * 60.0L);
  } else {
    return common::Error{"units \"" + units + "\" end in \"" + rest + "\", not a time zone"};
  }

  CfTimeUnits out;
  out.unit_seconds_ = unit->second;
  out.calendar_ = calendar->second;
  long long days = 0;
  if (out.calendar_ == "proleptic_gregorian") {
    days = gregorian_days(year, month, day);
  } else if (out.calendar_ == "julian") {
    days = julian_days(year, month, day);
  } else if (out.calendar_ == "standard") {
    // Julian before 1582-10-15, Gregorian from then on: the two day counts meet there.
    const bool gregorian = year > 1582 || (year == 1582 && (month > 10 || (month == 10 && day >= 15)));
    days = gregorian ? gregorian_days(year, month, day)
                     : julian_days(year, month, day) - julian_days(1582, 10, 5) + gregorian_days(1582, 10, 15);
  } else {
    days = fixed_year_days(year, month, day, out.calendar_ == "noleap" ? 365 : out.calendar_ == "all_leap" ? 366 : 360);
  }
  out.reference_seconds_ = days * 86400.0L + hour * 3600.0L + minute * 60.0L + second + zone_seconds;
  return out;
}

long double CfTimeUnits::to_absolute(long double value) const { return reference_seconds_ + value * unit_seconds_; }

long double CfTimeUnits::from_absolute(long double seconds) const {
  return (seconds - reference_seconds_) / unit_seconds_;
}

}  // namespace kerchunkfs::scanner
