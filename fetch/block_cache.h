// A byte-bounded cache of fetched byte ranges, shared by every open file.
//
// Ranges fetched together share their response buffer. Ranges are counted at their own size;
// one used a second time gets a buffer of its own, so the memory held beyond the capacity stays within
// about one coalesced response (max_block) per shard.
//
// Sharded (a mutex and an LRU list per shard) so concurrent readers of different ranges rarely
// meet on a lock. Single-flight: the first miss for a range is told to fetch it, and later ones
// wait for that fetch instead of asking again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "fetch/bytes.h"

namespace kerchunkfs::fetch {

struct CacheKey {
  std::uint32_t url = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  bool operator==(const CacheKey&) const = default;
};

struct CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;  // lookups that started a fetch
  std::uint64_t joined = 0;  // lookups that waited for a fetch already under way
  std::uint64_t evictions = 0;
  std::uint64_t bytes = 0;  // held now
};

class BlockCache {
 public:
  // Called once the range is known: its bytes, or why they could not be had.
  using Waiter = std::function<void(const common::Result<Bytes>& bytes)>;

  // A range whose fetch failed answers with that failure, without a new fetch, for
  // `error_hold`: the kernel and applications ask again right after an error, and a failure
  // that already took every retry should not take them all again at once.
  explicit BlockCache(std::uint64_t capacity_bytes, unsigned shard_count = 16,
                      std::chrono::milliseconds error_hold = std::chrono::seconds(1));

  // The cached bytes (Hit), or a recent failure (Failed); otherwise `waiter` is queued, and the
  // outcome says whether the caller is the one that must fetch the range and then call complete().
  enum class Lookup { Hit, Failed, MustFetch, Joined };
  struct Found {
    Lookup outcome = Lookup::MustFetch;
    Bytes bytes;          // Hit
    common::Error error;  // Failed
  };
  [[nodiscard]] Found lookup(const CacheKey& key, Waiter waiter);
  // For prefetching: claims the fetch of a range that is neither cached nor being fetched.
  bool claim(const CacheKey& key);
  // Ends a fetch: stores the bytes (or holds the failure) and calls every waiter, outside the lock.
  void complete(const CacheKey& key, const common::Result<Bytes>& bytes);
  // Forgets a range held (bytes handed out stay valid: they share their buffer).
  void drop(const CacheKey& key);

  CacheStats stats() const;
  std::uint64_t capacity() const { return capacity_; }

 private:
  struct KeyHash {
    std::size_t operator()(const CacheKey& key) const;
  };
  struct Entry {
    Bytes bytes;
    std::list<CacheKey>::iterator position;
    bool used = false;
  };
  struct Failure {
    std::chrono::steady_clock::time_point until;
    common::Error error;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<CacheKey, Entry, KeyHash> entries;
    std::unordered_map<CacheKey, std::vector<Waiter>, KeyHash> pending;
    std::unordered_map<CacheKey, Failure, KeyHash> failed;
    std::list<CacheKey> recency;  // most recently used first
    std::uint64_t bytes = 0;
    CacheStats stats;
  };
  Shard& shard_of(const CacheKey& key) { return shards_[KeyHash{}(key) % shards_.size()]; }
  // The recent failure of `key`, dropping it once it is older than the hold.
  const Failure* recent_failure(Shard& shard, const CacheKey& key);
  void insert(Shard& shard, const CacheKey& key, Bytes bytes) const;

  std::uint64_t capacity_;
  std::uint64_t shard_capacity_;
  std::chrono::milliseconds error_hold_;
  std::vector<Shard> shards_;
};

}  // namespace kerchunkfs::fetch
