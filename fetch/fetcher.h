// What the file system asks of fetch/: the bytes of reference ranges, through the block cache for
// remote targets, with coalesced prefetching. One Fetcher serves one reference set's URL table.
//
// The cache unit suits kerchunk data: a reference range up to `block_size` (a chunk) is fetched
// whole on its first read and served from memory after that; larger ranges and whole-file
// references are read in aligned blocks of `block_size` with the next block read ahead.
// Local files bypass the cache: the kernel's page cache already holds them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fetch/block_cache.h"
#include "fetch/http_source.h"
#include "fetch/source_registry.h"

namespace kerchunkfs::fetch {

struct FetcherOptions {
  std::uint64_t cache_size = 1ull << 30;
  std::uint64_t block_size = 4ull << 20;
  std::uint64_t max_gap = 64ull << 10;    // prefetch: join ranges this close ...
  // ... into requests up to this size: object stores serve several such ranges in parallel
  // faster than one large one (per-connection throughput is what limits a single request).
  std::uint64_t max_block = 16ull << 20;
  HttpOptions http;
};

// A reference's target range; `length` is the object's size for a whole-file reference.
struct Extent {
  std::uint32_t url = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Bytes for a read: valid during the callback only. `error` is an errno value, 0 on success.
using ReadDone = std::function<void(std::span<const char> bytes, int error, const std::string& message)>;

class Fetcher {
 public:
  Fetcher(std::vector<std::string> urls, const SourceRegistry& sources, const FetcherOptions& options);

  // Bytes [position, position + length) of the extent, clipped to its end.
  void read(const Extent& extent, std::uint64_t position, std::size_t length, ReadDone done);
  // Starts fetching these extents into the cache, if remote and not cached or under way;
  // extents of one URL that lie close together are fetched with one request.
  void prefetch(std::span<const Extent> extents);
  // A target's size, asked once per URL.
  void size(std::uint32_t url, std::function<void(SizeResult)> done);

  bool cached(std::uint32_t url) const { return url_cached_[url]; }
  CacheStats cache_stats() const { return cache_.stats(); }

 private:
  CacheKey key_of(const Extent& extent) const;
  // The cache ranges a read of extent bytes [position, end) touches.
  std::vector<CacheKey> blocks_for(const Extent& extent, std::uint64_t position, std::uint64_t end) const;
  void fetch_into_cache(std::uint32_t url, std::uint64_t offset, std::uint64_t length, std::vector<CacheKey> keys);

  std::vector<std::string> urls_;
  std::vector<ByteSource*> url_sources_;
  std::vector<bool> url_cached_;
  std::unique_ptr<std::atomic<std::int64_t>[]> url_sizes_;  // -1 until known
  FetcherOptions options_;
  BlockCache cache_;
};

}  // namespace kerchunkfs::fetch
