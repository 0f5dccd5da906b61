// The one HTTP engine of a process: libcurl's multi interface on one I/O thread, shared by every
// source that speaks HTTP (http://, https://, and the object stores, which map their URLs to HTTPS
// and sign requests). Connections are pooled and reused per host (and multiplexed over HTTP/2 when
// the server offers it), so `max_connections` bounds them all; ranged answers are verified, and
// transient failures are retried with exponential backoff and jitter. Every attempt is counted in
// one place.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "fetch/byte_source.h"

namespace kerchunkfs::fetch {

struct HttpOptions {
  // Open at once, over all hosts: as many as aiohttp (and so fsspec) opens by default, so a mount asks
  // no more of a server than the Python tools do; fewer left a serial reader of many chunk files
  // waiting on waves of requests (zarr-python over 365 one-chunk files: 0.389 s at 64, 0.346 s).
  unsigned max_connections = 100;
  long connect_timeout_ms = 10'000;
  long timeout_ms = 120'000;  // one attempt, start to end
  long stall_timeout_s = 20;  // an attempt below 1 KiB/s for this long is abandoned
  unsigned retries = 5;       // attempts after the first
  long retry_delay_ms = 200;  // first backoff; doubles each time, with jitter
  long max_retry_delay_ms = 10'000;
  bool insecure = false;                           // skip TLS certificate checks: only by explicit choice
  std::uint64_t max_unranged_body = 256ull << 20;  // largest whole body accepted when Range is ignored
  // Hosts requests may go to, redirects included ("example.org", "*.example.org"); empty: any.
  std::vector<std::string> allowed_hosts;
  // Link-local addresses (instance metadata services) are refused as targets unless this is set.
  bool allow_link_local = false;
  // Where login credentials come from (curl's netrc format: machine, login, password), each sent
  // only to its machine; empty: ~/.netrc when there is one.
  std::string netrc_file;
  // A bearer token (the file's text, read again when the file changes) sent as "Authorization:
  // Bearer" to these hosts alone (patterns as for allowed_hosts; curl drops the header when a
  // redirect leaves the host).
  std::string bearer_token_file;
  // Headers ("Name: value") sent to these hosts alone, like the token.
  std::vector<std::string> headers;
  std::vector<std::string> auth_hosts;
};

struct HttpCounters {
  std::atomic<std::uint64_t> requests{0};  // attempts sent
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> failures{0};   // reads that ended in an error
  std::atomic<std::uint64_t> bytes{0};      // body bytes received
  std::atomic<std::uint64_t> in_flight{0};  // attempts under way now
  // Attempts that went wrong, by kind (a retried attempt counts too).
  std::atomic<std::uint64_t> network_errors{0};  // no answer: connect, reset, timeout
  std::atomic<std::uint64_t> status_errors{0};   // an HTTP error status
  std::atomic<std::uint64_t> answer_errors{0};   // a 2xx answer with the wrong range or length
  // Attempt durations: bucket i counts those up to 2^i ms (the last, everything longer).
  static constexpr std::size_t kLatencyBuckets = 18;
  std::atomic<std::uint64_t> latency[kLatencyBuckets] = {};
  std::atomic<std::uint64_t> latency_total_us{0};
  void record_latency(std::uint64_t microseconds) {
    std::size_t bucket = 0;
    while (bucket + 1 < kLatencyBuckets && microseconds > (1000ull << bucket)) ++bucket;
    latency[bucket].fetch_add(1, std::memory_order_relaxed);
    latency_total_us.fetch_add(microseconds, std::memory_order_relaxed);
  }
};

// Headers ("Name: value") to add to one attempt of a request to `url` with Range `range`, such as
// a signature; or why it cannot (no credentials). Called on the I/O thread for every attempt, so
// that each carries a fresh signature.
using RequestSigner =
    std::function<common::Result<std::vector<std::string>>(const std::string& url, std::string_view range)>;

// One ranged GET. `progress`, when set, makes it streaming (see ByteSource::read_streaming).
struct HttpRequest {
  std::string url;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  Progress progress;
  std::shared_ptr<const RequestSigner> signer;  // adds headers to every attempt, when set
};

class HttpEngine {
 public:
  explicit HttpEngine(HttpOptions options);
  ~HttpEngine();  // stops the I/O thread; requests still under way fail with ECANCELED
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;

  // Calls `done` exactly once, on the I/O thread (or at once, for an empty range).
  void read(HttpRequest request, ReadDone done);
  // The object's size, from a one-byte ranged GET (HEAD is not always allowed where GET is).
  void size(std::string url, std::shared_ptr<const RequestSigner> signer, SizeDone done);
  // Holds `url` to the version `validator` ("ETag ..." / "Last-Modified ...", as ReadAnswer names
  // it) unless it already answered with one: an answer naming another version is then refused, as
  // if it had answered with this one first. For bytes kept elsewhere (a disk cache) that must not
  // be mixed with another version's.
  void pin_version(const std::string& url, const std::string& validator);
  // Ends the I/O thread: requests under way are answered with ECANCELED first. Idempotent.
  void stop();

  const HttpCounters& counters() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kerchunkfs::fetch
