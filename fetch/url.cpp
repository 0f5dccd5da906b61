#include "fetch/url.h"

#include <algorithm>
#include <cctype>

namespace kerchunkfs::fetch {

std::string_view url_scheme(std::string_view url) {
  const std::size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return "file";
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(url[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return "file";
  }
  return url.substr(0, colon);
}

std::string url_host(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) {
    const std::size_t close = rest.find(']');
    return std::string(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t authority = scheme + 3;
    const std::size_t end = std::min(out.find_first_of("/?#", authority), out.size());
    const std::size_t at = out.rfind('@', end);
    if (at != std::string::npos && at >= authority) {
      const std::size_t colon = out.find(':', authority);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  const std::size_t query = out.find('?');
  if (query == std::string::npos) return out;
  std::string redacted = out.substr(0, query + 1);
  const std::size_t fragment = std::min(out.find('#', query), out.size());
  std::string_view rest = std::string_view(out).substr(query + 1, fragment - query - 1);
  for (bool first = true; !rest.empty() || first; first = false) {
    const std::size_t amp = std::min(rest.find('&'), rest.size());
    const std::string_view pair = rest.substr(0, amp);
    const std::size_t equals = pair.find('=');
    std::string name(pair.substr(0, equals));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool secret = name.find("signature") != std::string::npos || name.find("token") != std::string::npos ||
                        name.find("credential") != std::string::npos || name.find("key") != std::string::npos ||
                        name == "sig" || name.find("secret") != std::string::npos ||
                        name.find("password") != std::string::npos;
    redacted += equals != std::string_view::npos && secret ? std::string(pair.substr(0, equals + 1)) + "***"
                                                           : std::string(pair);
    if (amp >= rest.size()) break;
    redacted += '&';
    rest.remove_prefix(amp + 1);
  }
  return redacted + out.substr(fragment);
}

}  // namespace kerchunkfs::fetch
