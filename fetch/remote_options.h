// The options both programs take for reading remote data (logins, tokens, headers, S3 and TLS
// settings, scheme-less URLs), in one table: kerchunkfs offers each as `-o NAME[=VALUE]`,
// kerchunkfs-scan as `--NAME-WITH-DASHES [VALUE]` (or its own spelling), and both check values
// with the same functions. Each program keeps the settings where its own options put them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "fetch/http_engine.h"
#include "fetch/object_store.h"

namespace kerchunkfs::fetch {

// Where the remote-access options land.
struct RemoteAccess {
  HttpOptions& http;
  S3Options& s3;
  std::string& remote_protocol;  // target URLs without a scheme are objects of it
};

struct RemoteOptionSpec {
  std::string_view name;          // kerchunkfs's spelling: "s3_endpoint"
  std::string_view scanner_name;  // kerchunkfs-scan's, where it is not "--" + name with dashes
  std::string_view value;         // how help names the value ("URL"); empty for a flag
  std::string_view help;
  // Sets `access` from the value (empty for a flag); an error starts with the option's name.
  common::Status (*apply)(std::string_view value, RemoteAccess& access);
  bool repeatable = false;  // given again, every value counts
};

std::span<const RemoteOptionSpec> remote_option_table();
// "--s3-endpoint": the option as kerchunkfs-scan spells it.
std::string scanner_spelling(const RemoteOptionSpec& option);

// The option given without what it needs (a bearer token file or headers, without the hosts they
// may go to): its name, for the program to say so in its own spelling; nothing when all is well.
std::optional<std::string_view> unbounded_credentials(const HttpOptions& http);

}  // namespace kerchunkfs::fetch
