// One-line log messages to stderr, or to syslog once the daemon has detached from its terminal.
#pragma once

#include <string_view>

namespace kerchunkfs::daemon {

class Logger {
 public:
  Logger() = default;
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;
  ~Logger();

  void use_syslog();
  // "info" (the default) or "error": the least severe messages written. False on another name.
  bool set_level(std::string_view name);
  void error(std::string_view message) const;
  void info(std::string_view message) const;

 private:
  void write(int priority, std::string_view message) const;
  bool syslog_ = false;
  int level_ = 6;  // LOG_INFO
};

}  // namespace kerchunkfs::daemon
