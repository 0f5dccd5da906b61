// The kerchunkfs -o options, in one table: each option's name, the form of its value, its line
// in --help, and how it sets the daemon's settings. The command-line parser, the -o config=FILE
// reader and the usage text all read this table, and a test checks the man page against it.
// Adding an option is one entry in options.cpp (and its paragraph in man/kerchunkfs.1); the
// options for reading remote data both programs take are fetch/remote_options.h's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "daemon/filesystem_options.h"
#include "fetch/remote_options.h"

namespace kerchunkfs::daemon {

// Everything the options decide.
struct Settings {
  FilesystemOptions filesystem;
  std::optional<std::string> target;                // the URL of references whose URL is null
  std::string log_level;                            // empty: the logger's default
  bool watch = false;                               // reload when the reference file changes
  unsigned watch_interval_s = 60;                   // how often -o watch asks a set by URL for its version
  std::uint64_t parquet_cache_bytes = 64ull << 20;  // decoded refs.K.parq files kept (parquet sets)
};

struct OptionSpec {
  std::string_view name;
  std::string_view value;  // how --help names the value ("SIZE"); empty for a flag
  std::string_view help;   // the rest of its --help line
  // Sets `settings` from the value (empty for a flag); an error says what is wrong with it.
  common::Status (*apply)(std::string_view value, Settings& settings);
  // Given more than once, every value counts: they reach `apply` one per line.
  bool repeatable = false;
  // An option kerchunkfs-scan takes too (fetch/remote_options.h): it applies instead of `apply`.
  const fetch::RemoteOptionSpec* remote = nullptr;
};

// The value an option given again takes: the values so far and the new one, a line each for a
// repeatable option; the new one alone otherwise.
std::string value_given_again(const OptionSpec& option, const std::string& before, std::string_view value);

std::span<const OptionSpec> option_table();
const OptionSpec* find_option(std::string_view name);

// The options given: name → value ("" for a flag; lines, for a repeatable option given again). The command line fills
// it first; a config file then adds only what the command line did not give.
using GivenOptions = std::map<std::string, std::string, std::less<>>;

// Reads -o config=FILE: "name=value" or "name" a line, '#' comments. Errors are "FILE:LINE: what".
[[nodiscard]] common::Status read_config_file(const std::string& path, GivenOptions& given);
// Settings from the options given, from defaults up; errors are "-o name=value: what is wrong".
[[nodiscard]] common::Result<Settings> apply_options(const GivenOptions& given);
// The "kerchunkfs options" part of --help.
std::string options_help();

// "4096", "64K", "64KiB", "512M", "2G", "1T": powers of 1024; nothing on a malformed value.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text);
// A default block cache size: an eighth of the machine's memory, between 64 MiB and 4 GiB.
std::uint64_t default_cache_size();
// "a:b:c" → {"a", "b", "c"}, empty items dropped (the lists of allow_local and allow_hosts).
std::vector<std::string> split_list(std::string_view text);

}  // namespace kerchunkfs::daemon
