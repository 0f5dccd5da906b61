// Fetched blocks kept on local disk across mounts and reboots (-o disk_cache=DIR), behind the
// memory block cache.
//
// A block is stored under its object's URL, tagged with the object's version (the ETag or
// Last-Modified the server named) and a CRC-32 of its bytes: a block of another version is never
// handed out, and one whose bytes do not match is removed and reported missing, so it is fetched
// again. Whether the version the disk holds is still the object's is the Fetcher's question (it
// asks the server once per object and mount, unless the object was confirmed within `trust`).
//
// Several daemons may share a directory: every file appears whole by rename, the bytes stored and
// the bytes reserved for blocks being written are counts in a shared mapping, changed under an
// flock, and room is made (least recently used first; a hit refreshes a file's modification time)
// and reserved before a block is written, so the directory stays within its limit. No disk
// failure is fatal: a block that cannot be written is simply not cached, with one log line per
// kind of failure.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "fetch/block_cache.h"

namespace kerchunkfs::fetch {

struct DiskCacheOptions {
  std::string directory;  // empty: no disk cache
  std::uint64_t size_limit = 4ull << 30;
  // Blocks of an object whose version was confirmed this recently are served without asking the
  // server (0: confirmed once per object in every mount).
  std::chrono::seconds trust{0};
  // Bytes waiting to be written; a block that would go beyond is not written.
  std::uint64_t write_queue_bytes = 64ull << 20;
  std::function<void(const std::string& line)> log;  // where failures are reported
};

struct DiskCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t corrupt = 0;          // blocks whose bytes did not match their checksum: removed
  std::uint64_t changed_objects = 0;  // objects whose version changed: their blocks removed
  std::uint64_t confirmed = 0;        // objects whose version the server confirmed
  std::uint64_t evictions = 0;
  std::uint64_t write_failures = 0;  // a full or read-only disk, say
  std::uint64_t writes_skipped = 0;  // the write queue was full
  std::uint64_t usage = 0;           // bytes of block files in the directory, all daemons'
  std::uint64_t size_limit = 0;
};

class DiskCache {
 public:
  // Opens (creating what is missing inside) `options.directory`, which must exist and be
  // writable; an error otherwise, which the caller reports before going on without.
  [[nodiscard]] static common::Result<std::unique_ptr<DiskCache>> open(DiskCacheOptions options);
  ~DiskCache();  // finishes the tasks queued, then stops the workers
  DiskCache(const DiskCache&) = delete;
  DiskCache& operator=(const DiskCache&) = delete;

  // The version the disk holds blocks of for `url`, and whether it was confirmed within `trust`.
  struct Record {
    std::string validator;
    bool trusted = false;
  };
  // These four do disk I/O on the calling thread: call them from a task (run()).
  std::optional<Record> record(const std::string& url);
  void confirm(const std::string& url);  // the server named the recorded version again
  void forget(const std::string& url);   // the object changed: its blocks go
  // The block's bytes, when held for this version and intact.
  std::optional<std::string> read(const std::string& url, const std::string& validator, std::uint64_t offset,
                                  std::uint64_t length);

  // Queues the block to be written (its buffer is kept until then).
  void write(const std::string& url, const std::string& validator, std::uint64_t offset, Bytes bytes);
  // Runs `task` on one of the cache's worker threads (started at the first call, so that a
  // process may fork after open()).
  void run(std::function<void()> task);

  DiskCacheStats stats() const;

 private:
  DiskCache(DiskCacheOptions options, int lock_fd, std::uint64_t* counts);
  // The counts every daemon on the directory shares (changed under the directory's lock): bytes
  // of block files stored, and bytes reserved for blocks being written.
  static constexpr int kStored = 0, kReserved = 1;
  std::atomic_ref<std::uint64_t> shared(int which) const;
  void subtract(int which, std::uint64_t bytes);

  std::string object_directory(const std::string& url) const;
  bool write_record(const std::string& directory, const std::string& url, const std::string& validator);
  void write_now(const std::string& url, const std::string& validator, std::uint64_t offset, const Bytes& bytes);
  // Counts the blocks stored and removes the least recently used until the reserved bytes and
  // `needed` more fit; under the directory's lock. True when some block is being written.
  bool make_room(std::uint64_t needed);
  void report(const std::string& kind, const std::string& line);
  void work();

  DiskCacheOptions options_;
  std::string root_;  // DIR/kerchunkfs-v1
  int lock_fd_;
  std::uint64_t* counts_;  // kStored, kReserved, in a MAP_SHARED page: used through shared() only
  std::mutex lock_mutex_;  // with lock_fd_'s flock: the directory's lock (DirectoryLock)

  std::atomic<std::uint64_t> sequence_{0};  // names this process's temporary files
  std::mutex reported_mutex_;
  std::vector<std::string> reported_;  // kinds of failure already logged

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<std::function<void()>> tasks_;
  struct PendingWrite {
    std::string url;
    std::string validator;
    std::uint64_t offset = 0;
    Bytes bytes;
  };
  std::deque<PendingWrite> writes_;
  std::uint64_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::once_flag started_;
  std::vector<std::thread> workers_;

  struct Counters {
    std::atomic<std::uint64_t> hits{0}, misses{0}, bytes_read{0}, bytes_written{0}, corrupt{0}, changed_objects{0},
        confirmed{0}, evictions{0}, write_failures{0}, writes_skipped{0};
  };
  Counters counters_;
};

}  // namespace kerchunkfs::fetch
