// URL text: what scheme and host a reference's URL names, and how it may appear in a log line.
// Plain string work, shared by the sources, the target policy and the daemon's messages.
#pragma once

#include <string>
#include <string_view>

namespace kerchunkfs::fetch {

// "http" for "http://host/x", "file" for "file:///x" and for plain paths.
std::string_view url_scheme(std::string_view url);

// The host of "scheme://[user@]host[:port]/..." (brackets of an IPv6 literal removed); empty
// when there is none.
std::string url_host(std::string_view url);

// `url` fit for a log line: a password in its user part and the values of query parameters that
// carry credentials (presigned URLs' signatures, tokens, SAS "sig") become "***".
std::string redact_url(std::string_view url);

}  // namespace kerchunkfs::fetch
