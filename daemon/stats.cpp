#include "daemon/stats.h"

#include <cmath>
#include <cstdio>

namespace kerchunkfs::daemon {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  out += std::string("# HELP kerchunkfs_") + name + " " + help + "\n# TYPE kerchunkfs_" + name + " " + type +
         "\nkerchunkfs_" + name + " " + number + "\n";
}

// The upper bound (seconds) of the bucket holding the q-quantile of the attempt durations.
double quantile(const fetch::HttpCounters& http, double q, std::uint64_t count) {
  const auto wanted = static_cast<std::uint64_t>(std::llround(q * static_cast<double>(count)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < fetch::HttpCounters::kLatencyBuckets; ++i) {
    seen += http.latency[i].load(std::memory_order_relaxed);
    if (seen >= std::max<std::uint64_t>(wanted, 1)) return static_cast<double>(1ull << i) / 1000.0;
  }
  return static_cast<double>(1ull << (fetch::HttpCounters::kLatencyBuckets - 1)) / 1000.0;
}

}  // namespace

std::string render_stats(const StatsInput& input) {
  std::string out;
  const ReadCounters& reads = *input.reads;
  metric(out, "reads_total", "counter", "Read requests answered.", static_cast<double>(reads.reads.load()));
  metric(out, "read_bytes_total", "counter", "Bytes handed to readers.", static_cast<double>(reads.bytes.load()));
  metric(out, "read_errors_total", "counter", "Reads answered with an error (EIO).",
         static_cast<double>(reads.errors.load()));
  metric(out, "references", "gauge", "Entries in the reference set served.", static_cast<double>(input.references));
  metric(out, "reloads_total", "counter", "Reference sets loaded again and swapped in.",
         static_cast<double>(reads.reloads.load()));
  metric(out, "reload_failures_total", "counter", "Reloads refused (the old set kept serving).",
         static_cast<double>(reads.failed_reloads.load()));
  metric(out, "generations", "gauge", "Reference sets held: the current one and older ones still in use.",
         static_cast<double>(input.generations));
  metric(out, "cache_hits_total", "counter", "Block cache lookups answered from memory.",
         static_cast<double>(input.cache.hits));
  metric(out, "cache_misses_total", "counter", "Block cache lookups that started a fetch.",
         static_cast<double>(input.cache.misses));
  metric(out, "cache_joined_total", "counter", "Block cache lookups that waited for a fetch under way.",
         static_cast<double>(input.cache.joined));
  metric(out, "cache_evictions_total", "counter", "Blocks evicted from the cache.",
         static_cast<double>(input.cache.evictions));
  metric(out, "cache_bytes", "gauge", "Bytes held in the block cache.", static_cast<double>(input.cache.bytes));
  metric(out, "cache_capacity_bytes", "gauge", "Block cache size limit.", static_cast<double>(input.cache_capacity));
  if (input.disk) {
    const fetch::DiskCacheStats& disk = *input.disk;
    const auto count = [&out](const char* name, const char* help, std::uint64_t value) {
      metric(out, name, "counter", help, static_cast<double>(value));
    };
    count("disk_cache_hits_total", "Blocks read from the disk cache.", disk.hits);
    count("disk_cache_misses_total", "Disk cache lookups that found no block.", disk.misses);
    count("disk_cache_read_bytes_total", "Bytes read from the disk cache.", disk.bytes_read);
    count("disk_cache_written_bytes_total", "Bytes written to the disk cache.", disk.bytes_written);
    count("disk_cache_corrupt_total", "Blocks on disk whose bytes failed their checksum (fetched again).",
          disk.corrupt);
    count("disk_cache_changed_objects_total", "Objects whose version changed: their blocks on disk dropped.",
          disk.changed_objects);
    count("disk_cache_confirmed_objects_total", "Objects whose version on disk the server confirmed.", disk.confirmed);
    count("disk_cache_evictions_total", "Blocks evicted from the disk cache.", disk.evictions);
    count("disk_cache_write_failures_total", "Blocks that could not be written (full or read-only disk).",
          disk.write_failures);
    count("disk_cache_writes_skipped_total", "Blocks not written: the write queue was full.", disk.writes_skipped);
    metric(out, "disk_cache_bytes", "gauge", "Bytes of blocks in the disk cache directory, every daemon's.",
           static_cast<double>(disk.usage));
    metric(out, "disk_cache_capacity_bytes", "gauge", "Disk cache size limit.", static_cast<double>(disk.size_limit));
  }
  if (input.decode != nullptr) {
    const DecodeCounters& decode = *input.decode;
    metric(out, "decoded_chunks_total", "counter", "Chunks decoded for the decoded view.",
           static_cast<double>(decode.chunks.load()));
    metric(out, "decode_failures_total", "counter", "Chunks that would not decode (EIO).",
           static_cast<double>(decode.failures.load()));
    metric(out, "decode_stored_bytes_total", "counter", "Stored bytes decoded.",
           static_cast<double>(decode.stored_bytes.load()));
    metric(out, "decoded_bytes_total", "counter", "Bytes chunks decoded to.",
           static_cast<double>(decode.decoded_bytes.load()));
    metric(out, "decode_seconds_total", "counter", "Worker time spent decoding.",
           static_cast<double>(decode.nanoseconds.load()) / 1e9);
    metric(out, "raw_arrays_total", "counter", "Arrays shown as stored: a codec kerchunkfs does not decode.",
           static_cast<double>(decode.raw_arrays.load()));
    metric(out, "decoded_cache_hits_total", "counter", "Decoded chunks found in memory.",
           static_cast<double>(input.decoded_cache.hits));
    metric(out, "decoded_cache_misses_total", "counter", "Decoded chunk lookups that started a decoding.",
           static_cast<double>(input.decoded_cache.misses));
    metric(out, "decoded_cache_bytes", "gauge", "Bytes held in the decoded chunk cache.",
           static_cast<double>(input.decoded_cache.bytes));
    metric(out, "decoded_cache_capacity_bytes", "gauge", "Decoded chunk cache size limit.",
           static_cast<double>(input.decoded_cache_capacity));
  }
  if (input.http == nullptr) return out;
  const fetch::HttpCounters& http = *input.http;
  metric(out, "http_requests_total", "counter", "HTTP request attempts sent.",
         static_cast<double>(http.requests.load()));
  metric(out, "http_retries_total", "counter", "Attempts that were retries.", static_cast<double>(http.retries.load()));
  metric(out, "http_failures_total", "counter", "Reads that failed after all attempts.",
         static_cast<double>(http.failures.load()));
  metric(out, "http_received_bytes_total", "counter", "Response body bytes received.",
         static_cast<double>(http.bytes.load()));
  metric(out, "http_in_flight", "gauge", "Attempts under way.", static_cast<double>(http.in_flight.load()));
  out +=
      "# HELP kerchunkfs_http_errors_total Attempts that went wrong, by kind.\n"
      "# TYPE kerchunkfs_http_errors_total counter\n";
  out += "kerchunkfs_http_errors_total{kind=\"network\"} " + std::to_string(http.network_errors.load()) + "\n";
  out += "kerchunkfs_http_errors_total{kind=\"status\"} " + std::to_string(http.status_errors.load()) + "\n";
  out += "kerchunkfs_http_errors_total{kind=\"answer\"} " + std::to_string(http.answer_errors.load()) + "\n";
  std::uint64_t count = 0;
  for (const auto& bucket : http.latency) count += bucket.load(std::memory_order_relaxed);
  out +=
      "# HELP kerchunkfs_http_request_seconds Attempt durations (quantiles: upper bounds of power-of-two buckets).\n"
      "# TYPE kerchunkfs_http_request_seconds summary\n";
  for (const double q : {0.5, 0.9, 0.99}) {
    char line[128];
    std::snprintf(line, sizeof line, "kerchunkfs_http_request_seconds{quantile=\"%g\"} %g\n", q,
                  count == 0 ? 0.0 : quantile(http, q, count));
    out += line;
  }
  char tail[128];
  std::snprintf(tail, sizeof tail,
                "kerchunkfs_http_request_seconds_sum %.6f\nkerchunkfs_http_request_seconds_count %llu\n",
                static_cast<double>(http.latency_total_us.load()) / 1e6, static_cast<unsigned long long>(count));
  return out + tail;
}

}  // namespace kerchunkfs::daemon
