// A bearer token kept in a file (-o bearer_token_file), read again when the file changes, so a
// token refreshed by another program is used from the next request on. Private to fetch/: the
// HTTP engine asks it on its I/O thread alone.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <optional>
#include <string>

namespace kerchunkfs::fetch {

class BearerToken {
 public:
  explicit BearerToken(std::string path) : path_(std::move(path)) {}

  // The token (the file's text without trailing white space), looked at again at most once a
  // second; the last good one while the file cannot be read; null when there never was one, or
  // when the text would break a header line.
  const std::string* current();

 private:
  std::string path_;
  std::optional<std::string> token_;
  timespec mtime_{};
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace kerchunkfs::fetch
