#include "fetch/target_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace kerchunkfs::fetch {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool link_local_v4(std::uint32_t host_order) { return (host_order >> 16) == ((169u << 8) | 254u); }

bool link_local_v6(const in6_addr& address) {
  const unsigned char* b = address.s6_addr;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10
  static constexpr unsigned char kEc2Metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (std::memcmp(b, kEc2Metadata, 16) == 0) return true;
  if (IN6_IS_ADDR_V4MAPPED(&address) || IN6_IS_ADDR_V4COMPAT(&address)) {
    return link_local_v4((std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) |
                         b[15]);
  }
  return false;
}

}  // namespace

bool path_under(std::string_view real_path, const std::vector<std::string>& roots) {
  return std::ranges::any_of(roots, [&](std::string_view root) {
    while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
    if (root == "/") return real_path.starts_with('/');
    return real_path.starts_with(root) && (real_path.size() == root.size() || real_path[root.size()] == '/');
  });
}

bool host_allowed(std::string_view host, const std::vector<std::string>& patterns) {
  if (patterns.empty()) return true;
  return std::ranges::any_of(patterns, [&](std::string_view pattern) {
    if (pattern.starts_with("*.")) {
      const std::string_view suffix = pattern.substr(1);  // ".example.org"
      return host.size() > suffix.size() && equal_ignoring_case(host.substr(host.size() - suffix.size()), suffix);
    }
    return equal_ignoring_case(host, pattern);
  });
}

bool is_link_local(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    return link_local_v4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) return link_local_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  return false;
}

bool is_link_local_literal(std::string_view host) {
  const std::string text(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return link_local_v4(ntohl(v4.s_addr));
  in6_addr v6{};
  return ::inet_pton(AF_INET6, text.c_str(), &v6) == 1 && link_local_v6(v6);
}

}  // namespace kerchunkfs::fetch
