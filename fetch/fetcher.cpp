#include "fetch/fetcher.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "fetch/coalesce.h"

namespace kerchunkfs::fetch {
namespace {

// Collects the cache ranges one read needs and answers once all of them are there.
class Gather : public std::enable_shared_from_this<Gather> {
 public:
  Gather(std::vector<CacheKey> keys, std::uint64_t start, std::size_t length, ReadDone done)
      : keys_(std::move(keys)), pieces_(keys_.size()), start_(start), length_(length), done_(std::move(done)) {}

  const std::vector<CacheKey>& keys() const { return keys_; }

  void arrive(std::size_t index, const Bytes& bytes, int error, const std::string& message) {
    std::unique_lock lock(mutex_);
    if (error != 0 && error_ == 0) {
      error_ = error;
      message_ = message;
    }
    pieces_[index] = bytes;
    if (++arrived_ < keys_.size()) return;
    lock.unlock();
    finish();
  }

 private:
  void finish() {
    if (error_ != 0) return done_({}, error_, message_);
    // [start_, start_ + length_) in absolute target offsets, from pieces that may end early
    // where the target does.
    if (keys_.size() == 1) {
      const std::string_view piece = pieces_[0].view;
      const std::uint64_t from = std::min<std::uint64_t>(start_ - keys_[0].offset, piece.size());
      return done_(std::span<const char>(piece.data() + from, std::min<std::uint64_t>(length_, piece.size() - from)), 0, {});
    }
    std::string joined;
    joined.reserve(length_);
    for (std::size_t i = 0; i < keys_.size() && joined.size() < length_; ++i) {
      const std::string_view piece = pieces_[i].view;
      const std::uint64_t at = start_ + joined.size();
      if (at < keys_[i].offset || at - keys_[i].offset >= piece.size()) break;
      const std::uint64_t from = at - keys_[i].offset;
      joined.append(piece.substr(from, std::min<std::uint64_t>(length_ - joined.size(), piece.size() - from)));
      if (piece.size() < keys_[i].length) break;  // the target ends here
    }
    done_(joined, 0, {});
  }

  std::vector<CacheKey> keys_;
  std::vector<Bytes> pieces_;
  std::uint64_t start_;
  std::size_t length_;
  ReadDone done_;
  std::mutex mutex_;
  std::size_t arrived_ = 0;
  int error_ = 0;
  std::string message_;
};

}  // namespace

Fetcher::Fetcher(std::vector<std::string> urls, const SourceRegistry& sources, const FetcherOptions& options)
    : urls_(std::move(urls)),
      url_sizes_(std::make_unique<std::atomic<std::int64_t>[]>(urls_.size())),
      options_(options),
      cache_(options.cache_size) {
  for (std::size_t i = 0; i < urls_.size(); ++i) {
    url_sources_.push_back(sources.find(urls_[i]));
    url_cached_.push_back(url_scheme(urls_[i]) != "file");
    url_sizes_[i].store(-1, std::memory_order_relaxed);
  }
}

CacheKey Fetcher::key_of(const Extent& extent) const { return CacheKey{extent.url, extent.offset, extent.length}; }

std::vector<CacheKey> Fetcher::blocks_for(const Extent& extent, std::uint64_t position, std::uint64_t end) const {
  if (extent.length <= options_.block_size) return {key_of(extent)};
  // Aligned to the target, not to the extent, so overlapping references share blocks.
  const std::uint64_t extent_end = extent.offset + extent.length;
  std::vector<CacheKey> keys;
  const std::uint64_t block = options_.block_size;
  for (std::uint64_t start = (extent.offset + position) / block * block; start < extent.offset + end; start += block) {
    const std::uint64_t from = std::max(start, extent.offset);
    keys.push_back(CacheKey{extent.url, from, std::min(start + block, extent_end) - from});
  }
  return keys;
}

void Fetcher::read(const Extent& extent, std::uint64_t position, std::size_t length, ReadDone done) {
  if (position >= extent.length) return done({}, 0, {});
  length = static_cast<std::size_t>(std::min<std::uint64_t>(length, extent.length - position));
  ByteSource* source = url_sources_[extent.url];
  if (!url_cached_[extent.url]) {
    source->read(urls_[extent.url], extent.offset + position, length, [done = std::move(done)](ReadResult result) {
      done(result.bytes, result.error, result.message);
    });
    return;
  }

  auto keys = blocks_for(extent, position, position + length);
  if (extent.length > options_.block_size) {
    // Sequential readahead: the block after the last one this read needs.
    const CacheKey& last = keys.back();
    const std::uint64_t next = last.offset + last.length;
    if (next < extent.offset + extent.length) {
      const auto ahead = blocks_for(extent, next - extent.offset, next - extent.offset + 1);
      if (cache_.claim(ahead.front())) fetch_into_cache(extent.url, ahead.front().offset, ahead.front().length, ahead);
    }
  }
  auto gather = std::make_shared<Gather>(std::move(keys), extent.offset + position, length, std::move(done));
  for (std::size_t i = 0; i < gather->keys().size(); ++i) {
    const CacheKey& key = gather->keys()[i];
    Bytes hit;
    int error = 0;
    std::string message;
    const auto outcome = cache_.lookup(
        key, hit,
        [gather, i](const Bytes& bytes, int fetch_error, const std::string& fetch_message) {
          gather->arrive(i, bytes, fetch_error, fetch_message);
        },
        &error, &message);
    if (outcome == BlockCache::Lookup::Hit) {
      gather->arrive(i, hit, 0, {});
    } else if (outcome == BlockCache::Lookup::Failed) {
      gather->arrive(i, Bytes{}, error, message + " (failed less than a second ago)");
    } else if (outcome == BlockCache::Lookup::MustFetch) {
      fetch_into_cache(key.url, key.offset, key.length, {key});
    }
  }
}

void Fetcher::fetch_into_cache(std::uint32_t url, std::uint64_t offset, std::uint64_t length, std::vector<CacheKey> keys) {
  // Each range is completed as soon as its bytes are in, so a reader of the first chunk of a
  // large coalesced request does not wait for the rest. Progress and completion come from one
  // thread, one after the other, so this state needs no lock.
  struct Delivery {
    std::vector<CacheKey> keys;  // in offset order
    std::size_t next = 0;        // keys before this one are complete
    std::shared_ptr<const std::string> buffer;
    std::size_t available = 0;
  };
  auto delivery = std::make_shared<Delivery>();
  delivery->keys = std::move(keys);
  url_sources_[url]->read_streaming(
      urls_[url], offset, length,
      [this, offset, delivery](const std::shared_ptr<const std::string>& buffer, std::size_t available) {
        delivery->buffer = buffer;
        delivery->available = available;
        for (; delivery->next < delivery->keys.size(); ++delivery->next) {
          const CacheKey& key = delivery->keys[delivery->next];
          const std::uint64_t from = key.offset - offset;
          if (from + key.length > available) break;
          cache_.complete(key, Bytes{buffer, std::string_view(*buffer).substr(from, key.length)});
        }
      },
      [this, offset, delivery](ReadResult result) {
        for (; delivery->next < delivery->keys.size(); ++delivery->next) {
          const CacheKey& key = delivery->keys[delivery->next];
          if (result.error != 0 || !delivery->buffer) {
            cache_.complete(key, Bytes{}, result.error != 0 ? result.error : EIO, result.message);
            continue;
          }
          // The target ended before this range did: what there is, which the reader finds short.
          const std::uint64_t from = std::min<std::uint64_t>(key.offset - offset, delivery->available);
          cache_.complete(key, Bytes{delivery->buffer, std::string_view(*delivery->buffer)
                                                           .substr(from, std::min<std::uint64_t>(key.length, delivery->available - from))});
        }
      });
}

void Fetcher::prefetch(std::span<const Extent> extents) {
  std::map<std::uint32_t, std::vector<CacheKey>> by_url;
  for (const Extent& extent : extents) {
    if (!url_cached_[extent.url]) continue;
    // Large extents are read block by block as they are used, with their own readahead.
    if (extent.length > options_.block_size) continue;
    const CacheKey key = key_of(extent);
    if (cache_.claim(key)) by_url[extent.url].push_back(key);
  }
  for (auto& [url, keys] : by_url) {
    std::vector<ByteRange> ranges;
    ranges.reserve(keys.size());
    for (const CacheKey& key : keys) ranges.push_back(ByteRange{key.offset, key.length});
    for (const MergedRange& merged : coalesce(ranges, options_.max_gap, options_.max_block)) {
      std::vector<CacheKey> members;
      for (const std::size_t index : merged.members) members.push_back(keys[index]);
      fetch_into_cache(url, merged.offset, merged.length, std::move(members));
    }
  }
}

void Fetcher::size(std::uint32_t url, std::function<void(SizeResult)> done) {
  const std::int64_t known = url_sizes_[url].load(std::memory_order_relaxed);
  if (known >= 0) return done(SizeResult{static_cast<std::uint64_t>(known), 0, {}});
  url_sources_[url]->size(urls_[url], [this, url, done = std::move(done)](SizeResult result) {
    if (result.error == 0) url_sizes_[url].store(static_cast<std::int64_t>(result.size), std::memory_order_relaxed);
    done(std::move(result));
  });
}

}  // namespace kerchunkfs::fetch
