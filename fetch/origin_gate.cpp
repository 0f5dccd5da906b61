#include "fetch/origin_gate.h"

#include <sys/stat.h>

#include <cstdlib>

namespace kerchunkfs::fetch {

bool netrc_present(const HttpOptions& options) {
  if (!options.netrc_file.empty()) return true;
  const char* home = std::getenv("HOME");
  struct stat st {};
  return home != nullptr && ::stat((std::string(home) + "/.netrc").c_str(), &st) == 0;
}

std::string origin_of(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  return url.substr(0, path);
}

}  // namespace kerchunkfs::fetch
