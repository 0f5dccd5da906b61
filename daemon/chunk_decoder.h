// Decoding chunks for the decoded view (-o decode, daemon/decoded_view.h): a pool of worker
// threads, one per core, and a byte-bounded cache of decoded chunks shared by every generation.
//
// A chunk is fetched (through the fetcher and its block cache), handed to a worker, decoded
// there and kept in the decoded cache; readers of the same chunk meanwhile join that one decoding
// (single flight). Read-ahead asks for the next chunks' decoding the same way with nobody
// waiting, so a serial reader finds them decoded, and the cores decode in parallel while it
// consumes one. Memory: the decoded cache's capacity, plus the chunks being decoded (read-ahead
// never asks beyond what the cache holds).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "codec/codec.h"
#include "fetch/block_cache.h"
#include "fetch/fetcher.h"

namespace kerchunkfs::daemon {

struct DecodeCounters {
  std::atomic<std::uint64_t> chunks{0};        // chunks decoded
  std::atomic<std::uint64_t> failures{0};      // chunks that would not decode
  std::atomic<std::uint64_t> stored_bytes{0};  // bytes decoded from
  std::atomic<std::uint64_t> decoded_bytes{0};
  std::atomic<std::uint64_t> nanoseconds{0};  // worker time spent decoding
  std::atomic<std::uint64_t> raw_arrays{0};   // arrays left as stored: a codec not decoded here
};

class ChunkDecoder {
 public:
  // Reads the stored chunk, handing over bytes that stay valid while held (no copy for a cached one).
  using StoredDone = std::function<void(const common::Result<fetch::Bytes>&)>;
  using Stored = std::function<void(StoredDone)>;
  using Done = std::function<void(const common::Result<fetch::Bytes>&)>;
  // Makes a chunk's bytes (an assembled chunk, from decoded ones) and hands them to its callback.
  using Made = std::function<void(common::Result<std::string>)>;
  using Make = std::function<void(Made)>;

  // `threads` 0: one per core. Threads start with the first decoding (after the daemon forks).
  ChunkDecoder(std::uint64_t cache_bytes, unsigned threads);
  ~ChunkDecoder();
  ChunkDecoder(const ChunkDecoder&) = delete;
  ChunkDecoder& operator=(const ChunkDecoder&) = delete;

  // Makes a chunk by reading it with `stored` and decoding it with `pipeline` on a worker.
  Make decoding(std::shared_ptr<const codec::Pipeline> pipeline, Stored stored);
  // The chunk named `key`: cached, joined to a making under way, or made with `make`. `done` may
  // run on a worker thread.
  void get(const fetch::CacheKey& key, const Make& make, const Done& done);
  // Starts making `key` unless it is cached or under way; nobody waits for it.
  void prefetch(const fetch::CacheKey& key, const Make& make);
  // Forgets a decoded chunk that its reader has read to the end: the kernel's page cache holds
  // it now, and its memory is better reused for the chunks ahead (fresh memory costs page faults).
  void consumed(const fetch::CacheKey& key) { cache_.drop(key); }
  // Ends the workers (the task each is running finishes; those queued are dropped): after this no
  // callback runs on a worker, so the FUSE session they answer can go.
  void stop();
  // Runs `task` on a worker.
  void post(std::function<void()> task);

  DecodeCounters& counters() { return counters_; }
  const DecodeCounters& counters() const { return counters_; }
  fetch::CacheStats cache_stats() const { return cache_.stats(); }
  std::uint64_t cache_capacity() const { return cache_.capacity(); }
  unsigned thread_count() const { return thread_count_; }

 private:
  void finish(const fetch::CacheKey& key, common::Result<std::string> made);
  void work();

  fetch::BlockCache cache_;
  DecodeCounters counters_;
  const unsigned thread_count_;
  std::mutex mutex_;  // guards the queue, stopping_ and workers_
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;  // started on the first post
};

}  // namespace kerchunkfs::daemon
