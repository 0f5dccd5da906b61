// What the file system asks of fetch/: the bytes of reference ranges, through the block cache for
// remote targets, with coalesced prefetching. One Fetcher serves a whole mount: every reference
// set loaded into it (the first and each reload) shares its block cache, so the memory bound is
// one cache size however many sets are held, and a URL in two sets is one Target with one set of
// cached blocks. When to prefetch is not decided here but by the caller (daemon/readahead.h).
//
// The cache unit suits kerchunk data: a reference range up to `block_size` (a chunk) is fetched
// whole on its first read and served from memory after that; larger ranges and whole-file
// references are read in aligned blocks of `block_size`.
// Local files bypass the cache: the kernel's page cache already holds them.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fetch/block_cache.h"
#include "fetch/disk_cache.h"
#include "fetch/http_engine.h"
#include "fetch/source_registry.h"

namespace kerchunkfs::fetch {

struct FetcherOptions {
  std::uint64_t cache_size = 1ull << 30;
  std::uint64_t block_size = 4ull << 20;
  std::uint64_t max_gap = 64ull << 10;  // prefetch: join ranges this close ...
  // ... into requests up to this size: object stores serve several such ranges in parallel
  // faster than one large one (per-connection throughput is what limits a single request).
  std::uint64_t max_block = 16ull << 20;
  HttpOptions http;
  DiskCacheOptions disk;  // a directory: remote blocks kept on disk too (see fetch/disk_cache.h)
};

// One target URL known to a Fetcher: where its bytes come from, whether they go through the
// block cache (remote targets; the kernel's page cache already holds local files), and its size
// once asked (whole-file references).
struct Target {
  Target(std::string url_text, ByteSource* byte_source, bool use_cache, std::uint32_t number)
      : url(std::move(url_text)), source(byte_source), cached(use_cache), id(number) {}
  const std::string url;
  ByteSource* const source;  // never null: targets without a source are refused at load
  const bool cached;
  const std::uint32_t id;                      // the block cache's name for it
  mutable std::atomic<std::int64_t> size{-1};  // -1 until known; a cache, written through const

  // Which version of the object the disk cache may serve in this mount (see
  // Fetcher::with_disk_version); written through const, under its mutex.
  struct DiskVersion {
    enum class State { Unknown, Checking, Known, Absent };
    std::mutex mutex;
    State state = State::Unknown;
    std::string validator;                                                 // Known
    std::vector<std::function<void(std::optional<std::string>)>> waiting;  // Checking
  };
  mutable DiskVersion disk;
};

// A reference's target range; `length` is the object's size for a whole-file reference.
struct Extent {
  const Target* target = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Bytes for a read, valid during the callback only; or why they could not be read.
using BytesDone = std::function<void(const common::Result<std::span<const char>>& bytes)>;

class Fetcher {
 public:
  Fetcher(const SourceRegistry& sources, const FetcherOptions& options);
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // The targets of one reference set's URL table, in its order. A URL seen before (in this set
  // or an earlier one) is the same Target. Targets live as long as the Fetcher. Every URL must
  // have a source (checked when the set was loaded).
  std::vector<const Target*> targets(std::span<const std::string> urls);

  // Bytes [position, position + length) of the extent, clipped to its end.
  void read(const Extent& extent, std::uint64_t position, std::size_t length, BytesDone done);
  // The whole extent as bytes that stay valid as long as they are held: a remote chunk's cached
  // buffer itself, shared; a copy for local and large extents. Fails when the target ends early.
  void read_shared(const Extent& extent, std::function<void(const common::Result<Bytes>&)> done);
  // Starts fetching these extents into the cache, if remote, not larger than a block, and
  // neither cached nor under way; extents of one URL that lie close together are fetched with
  // one request.
  void prefetch(std::span<const Extent> extents);
  // Starts fetching the cache blocks that extent bytes [position, position + length) lie in,
  // those neither cached nor under way (for a large extent read block by block).
  void prefetch_range(const Extent& extent, std::uint64_t position, std::uint64_t length);
  // Bytes [position, position + length) of the extent (clipped to its end) as a slice of a local
  // file, for a reply spliced from the file; nothing for remote targets.
  std::optional<common::Result<FileSlice>> file_slice(const Extent& extent, std::uint64_t position,
                                                      std::size_t length) const;
  // A target's size, asked once per URL.
  void size(const Target& target, SizeDone done);

  bool is_large(const Extent& extent) const { return extent.length > options_.block_size; }
  CacheStats cache_stats() const { return cache_.stats(); }
  std::uint64_t cache_capacity() const { return cache_.capacity(); }
  // The disk cache's counters; nothing without one.
  std::optional<DiskCacheStats> disk_cache_stats() const;

 private:
  // The cache ranges a read of extent bytes [position, end) touches.
  std::vector<CacheKey> blocks_for(const Extent& extent, std::uint64_t position, std::uint64_t end) const;
  // Answers `keys` (in offset order, within [offset, offset + length)) from the disk cache where
  // it holds them, and from the target's source otherwise.
  void fetch_into_cache(const Target& target, std::uint64_t offset, std::uint64_t length, std::vector<CacheKey> keys);
  void fetch_from_source(const Target& target, std::uint64_t offset, std::uint64_t length, std::vector<CacheKey> keys);
  // Calls `then` with the version of the object whose blocks the disk may serve, or nothing
  // (none held, or the object changed). The first call in a mount asks the server with a one-byte
  // read, unless the disk confirmed that version within its trust time; calls meanwhile wait.
  void with_disk_version(const Target& target, std::function<void(std::optional<std::string>)> then);
  void settle_disk_version(const Target& target, std::optional<std::string> validator, bool ask_again);
  // After the source answered with version `validator`: the disk takes this version's blocks.
  bool disk_takes(const Target& target, const std::string& validator);

  const SourceRegistry& sources_;
  FetcherOptions options_;
  BlockCache cache_;
  std::mutex targets_mutex_;
  std::deque<Target> targets_;                            // a deque: Targets never move once made
  std::unordered_map<std::string_view, Target*> by_url_;  // views of the Targets' own URLs
  // Last: its workers, which use all of the above, stop first.
  std::unique_ptr<DiskCache> disk_;
};

}  // namespace kerchunkfs::fetch
