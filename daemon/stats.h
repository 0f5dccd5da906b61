// The numbers behind /.kerchunkfs/stats, as Prometheus' text exposition format: one
// "name value" line per metric under # HELP and # TYPE lines, which people read as easily as
// node_exporter's textfile collector does.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/chunk_decoder.h"
#include "fetch/block_cache.h"
#include "fetch/disk_cache.h"
#include "fetch/http_engine.h"

namespace kerchunkfs::daemon {

struct ReadCounters {
  std::atomic<std::uint64_t> reads{0};   // read requests answered
  std::atomic<std::uint64_t> bytes{0};   // bytes handed to readers
  std::atomic<std::uint64_t> errors{0};  // reads answered with an error
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> failed_reloads{0};
};

struct StatsInput {
  const ReadCounters* reads = nullptr;
  const fetch::HttpCounters* http = nullptr;  // null when no HTTP source exists
  fetch::CacheStats cache;
  std::uint64_t cache_capacity = 0;
  std::optional<fetch::DiskCacheStats> disk;  // with -o disk_cache
  std::uint64_t references = 0;
  std::uint64_t generations = 0;
  const DecodeCounters* decode = nullptr;  // with -o decode
  fetch::CacheStats decoded_cache;
  std::uint64_t decoded_cache_capacity = 0;
};

std::string render_stats(const StatsInput& input);

}  // namespace kerchunkfs::daemon
