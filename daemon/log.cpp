#include "daemon/log.h"

#include <syslog.h>

#include <cstdio>

namespace kerchunkfs::daemon {

Logger::~Logger() {
  if (syslog_) closelog();
}

void Logger::use_syslog() {
  openlog("kerchunkfs", LOG_PID, LOG_DAEMON);
  syslog_ = true;
}

bool Logger::set_level(std::string_view name) {
  if (name == "info")
    level_ = LOG_INFO;
  else if (name == "error")
    level_ = LOG_ERR;
  else
    return false;
  return true;
}

void Logger::error(std::string_view message) const { write(LOG_ERR, message); }
void Logger::info(std::string_view message) const { write(LOG_INFO, message); }

void Logger::write(int priority, std::string_view message) const {
  if (priority > level_) return;
  const int length = static_cast<int>(message.size());
  if (syslog_) {
    syslog(priority, "%.*s", length, message.data());
  } else {
    // One fprintf call per line: stdio locks the stream, so lines from threads never interleave.
    std::fprintf(stderr, "kerchunkfs: %.*s\n", length, message.data());
  }
}

}  // namespace kerchunkfs::daemon
