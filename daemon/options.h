// The kerchunkfs-specific -o options: their values as libfuse's option parser leaves them
// (strings), and their translation into the file system's settings with clear errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
  int insecure = 0;
};

// Fills `out` from the options given; on a bad value returns "-o name=value: what is wrong".
std::optional<std::string> apply_options(const RawOptions& raw, FilesystemOptions& out);

}  // namespace kerchunkfs::daemon
