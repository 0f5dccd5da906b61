// The kerchunkfs-specific -o options: their values as libfuse's option parser leaves them
// (strings), and their translation into the file system's settings with clear errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/filesystem.h"

namespace kerchunkfs::daemon {

// "4096", "64K", "64KiB", "512M", "2G", "1T": powers of 1024; nothing on a malformed value.
std::optional<std::uint64_t> parse_size(std::string_view text);

// A default block cache size: an eighth of the machine's memory, between 64 MiB and 4 GiB.
std::uint64_t default_cache_size();

// Each field points at the text of one -o option, or is null when the option was not given.
struct RawOptions {
  char* refs = nullptr;    // the first positional argument
  char* target = nullptr;
  char* cache_size = nullptr;
  char* block_size = nullptr;
  char* max_gap = nullptr;
  char* max_block = nullptr;
  char* prefetch = nullptr;
  char* max_connections = nullptr;
  char* retries = nullptr;
  char* retry_delay = nullptr;
  char* timeout = nullptr;
  char* connect_timeout = nullptr;
  char* s3_region = nullptr;
  char* s3_endpoint = nullptr;
  char* log_level = nullptr;
  char* config = nullptr;  // a file of further options, one "name=value" (or "name") a line
  char* allow_local = nullptr;  // DIR[:DIR...]
  char* allow_hosts = nullptr;  // HOST[:HOST...]
  char* max_keys = nullptr;
  int insecure = 0;
  int s3_path_style = 0;
  int anon = 0;
  int no_zmetadata = 0;
  int watch = 0;
  int no_stats = 0;
  int allow_link_local = 0;
};

// Reads the options file named by -o config=: "name=value" or "name" a line, '#' comments. An
// option given on the command line wins over the file. The file's strings are kept in `storage`,
// which must outlive `raw`. On a problem returns "FILE:LINE: what is wrong".
std::optional<std::string> read_config_file(RawOptions& raw, std::vector<std::string>& storage);

// "a:b:c" → {"a", "b", "c"}, empty items dropped (the lists of allow_local and allow_hosts).
std::vector<std::string> split_list(std::string_view text);

// Fills `out` from the options given; on a bad value returns "-o name=value: what is wrong".
std::optional<std::string> apply_options(const RawOptions& raw, FilesystemOptions& out);

}  // namespace kerchunkfs::daemon
