#include "fetch/block_cache.h"

namespace kerchunkfs::fetch {

std::size_t BlockCache::KeyHash::operator()(const CacheKey& key) const {
  std::uint64_t h = key.offset * 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{key.url} << 32) ^ key.length;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return static_cast<std::size_t>(h);
}

BlockCache::BlockCache(std::uint64_t capacity_bytes, unsigned shard_count, std::chrono::milliseconds error_hold)
    : capacity_(capacity_bytes),
      shard_capacity_(capacity_bytes / shard_count),
      error_hold_(error_hold),
      shards_(shard_count) {}

const BlockCache::Failure* BlockCache::recent_failure(Shard& shard, const CacheKey& key) {
  const auto found = shard.failed.find(key);
  if (found == shard.failed.end()) return nullptr;
  if (std::chrono::steady_clock::now() < found->second.until) return &found->second;
  shard.failed.erase(found);
  return nullptr;
}

BlockCache::Found BlockCache::lookup(const CacheKey& key, Waiter waiter) {
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  if (const auto found = shard.entries.find(key); found != shard.entries.end()) {
    shard.recency.splice(shard.recency.begin(), shard.recency, found->second.position);
    Entry& entry = found->second;
    // A range used a second time outlives the others fetched with it: it gets memory of its
    // own, so that it does not keep their whole answer (or the arena block it was carved from)
    // alive after they are evicted. (The first use of a prefetched range is a hit too, and
    // copies nothing.)
    if (entry.used && entry.bytes.held > 2 * entry.bytes.size()) {
      entry.bytes = Bytes::whole(std::string(entry.bytes.view));
    }
    entry.used = true;
    ++shard.stats.hits;
    return Found{Lookup::Hit, entry.bytes, {}};
  }
  if (const Failure* failure = recent_failure(shard, key)) return Found{Lookup::Failed, {}, failure->error};
  const auto [pending, fresh] = shard.pending.try_emplace(key);
  pending->second.push_back(std::move(waiter));
  ++(fresh ? shard.stats.misses : shard.stats.joined);
  return Found{fresh ? Lookup::MustFetch : Lookup::Joined, {}, {}};
}

bool BlockCache::claim(const CacheKey& key) {
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.contains(key) || recent_failure(shard, key)) return false;
  const bool fresh = shard.pending.try_emplace(key).second;
  if (fresh) ++shard.stats.misses;
  return fresh;
}

void BlockCache::insert(Shard& shard, const CacheKey& key, Bytes bytes) const {
  // A range larger than a shard is served to its waiters but not kept.
  if (bytes.size() > shard_capacity_) return;
  shard.recency.push_front(key);
  shard.bytes += bytes.size();
  shard.entries.insert_or_assign(key, Entry{std::move(bytes), shard.recency.begin()});
  while (shard.bytes > shard_capacity_) {
    const CacheKey& oldest = shard.recency.back();
    const auto victim = shard.entries.find(oldest);
    shard.bytes -= victim->second.bytes.size();
    shard.entries.erase(victim);
    shard.recency.pop_back();
    ++shard.stats.evictions;
  }
}

void BlockCache::complete(const CacheKey& key, const common::Result<Bytes>& bytes) {
  std::vector<Waiter> waiters;
  {
    Shard& shard = shard_of(key);
    std::lock_guard lock(shard.mutex);
    if (const auto pending = shard.pending.find(key); pending != shard.pending.end()) {
      waiters = std::move(pending->second);
      shard.pending.erase(pending);
    }
    if (bytes && *bytes) {
      insert(shard, key, *bytes);
    } else if (!bytes && error_hold_.count() > 0) {
      shard.failed.insert_or_assign(key, Failure{std::chrono::steady_clock::now() + error_hold_, bytes.error()});
    }
  }
  for (const Waiter& waiter : waiters) waiter(bytes);
}

void BlockCache::drop(const CacheKey& key) {
  Shard& shard = shard_of(key);
  const std::lock_guard lock(shard.mutex);
  const auto found = shard.entries.find(key);
  if (found == shard.entries.end()) return;
  shard.bytes -= found->second.bytes.size();
  shard.recency.erase(found->second.position);
  shard.entries.erase(found);
}

CacheStats BlockCache::stats() const {
  CacheStats total;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total.hits += shard.stats.hits;
    total.misses += shard.stats.misses;
    total.joined += shard.stats.joined;
    total.evictions += shard.stats.evictions;
    total.bytes += shard.bytes;
  }
  return total;
}

}  // namespace kerchunkfs::fetch
