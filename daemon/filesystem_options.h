// What the mount's options decide for the file system (daemon/filesystem.h) and for the checks
// a reference set's targets pass (daemon/target_check.h), apart from both.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "fetch/fetcher.h"
#include "fetch/object_store.h"

namespace kerchunkfs::daemon {

struct FilesystemOptions {
  double cache_timeout = 86400.0;  // seconds the kernel may trust entries and attributes
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec mtime {};  // shown for every file: the reference file's modification time
  fetch::FetcherOptions fetch;
  fetch::S3Options s3;
  std::uint64_t prefetch_bytes = 64ull << 20;  // read-ahead budget per chunk read; 0 turns it off
  bool consolidated = true;                    // offer a synthesized /.zmetadata when the set has none
  bool stats = true;                           // offer /.kerchunkfs/stats
  // The decoded view (daemon/decoded_view.h): arrays shown as stored raw, decoded by the mount.
  bool decode = false;
  std::uint64_t decode_cache_bytes = 512ull << 20;  // decoded chunks kept
  unsigned decode_threads = 0;                      // 0: one per core
  std::string remote_protocol;                      // of target URLs without a scheme (-o remote_protocol)
  // Real paths of the directories local targets may lie in; none: local targets are refused.
  std::vector<std::string> local_roots;
  std::uint64_t max_keys = 100'000'000;  // larger reference sets are refused at load
};

}  // namespace kerchunkfs::daemon
