// What a reference set may make kerchunkfs read. Reference sets are downloaded from the internet
// and mounts are shared (allow_other), so a set must not turn the daemon into a reader of the
// machine's private files or of a cloud's credential endpoint: local targets are confined to
// directories the user names, remote hosts to a list when one is given, and link-local addresses
// (169.254.0.0/16, fe80::/10, fd00:ec2::254: instance metadata services) are never connected to
// unless allowed.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kerchunkfs::fetch {

// True when the real (resolved, absolute) path lies in one of the directories `roots` (also
// real paths), or is one of them.
bool path_under(std::string_view real_path, const std::vector<std::string>& roots);

// True when `host` matches a pattern: a name ("data.example.org", any case) or a suffix pattern
// ("*.example.org", which does not match "example.org" itself). An empty list allows any host.
bool host_allowed(std::string_view host, const std::vector<std::string>& patterns);

bool is_link_local(const sockaddr* address);
// The same test for a host written as an IP address literal; false for names.
bool is_link_local_literal(std::string_view host);

}  // namespace kerchunkfs::fetch
