#include "fetch/fetcher.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "fetch/coalesce.h"
#include "fetch/url.h"

namespace kerchunkfs::fetch {
namespace {

// Collects the cache ranges one read needs and answers once all of them are there.
class Gather : public std::enable_shared_from_this<Gather> {
 public:
  Gather(std::vector<CacheKey> keys, std::uint64_t start, std::size_t length, BytesDone done)
      : keys_(std::move(keys)), pieces_(keys_.size()), start_(start), length_(length), done_(std::move(done)) {}

  const std::vector<CacheKey>& keys() const { return keys_; }

  void arrive(std::size_t index, const common::Result<Bytes>& bytes) {
    std::unique_lock lock(mutex_);
    if (!bytes && !error_) error_ = bytes.error();
    if (bytes) pieces_[index] = *bytes;
    if (++arrived_ < keys_.size()) return;
    lock.unlock();
    finish();
  }

 private:
  void finish() {
    if (error_) return done_(*error_);
    // [start_, start_ + length_) in absolute target offsets, from pieces that may end early
    // where the target does.
    if (keys_.size() == 1) {
      const std::string_view piece = pieces_[0].view;
      const std::uint64_t from = std::min<std::uint64_t>(start_ - keys_[0].offset, piece.size());
      return done_(std::span<const char>(piece.data() + from, std::min<std::uint64_t>(length_, piece.size() - from)));
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
    done_(std::span<const char>(joined));
  }

  std::vector<CacheKey> keys_;
  std::vector<Bytes> pieces_;
  std::uint64_t start_;
  std::size_t length_;
  BytesDone done_;
  std::mutex mutex_;
  std::size_t arrived_ = 0;
  std::optional<common::Error> error_;  // the first piece's failure
};

}  // namespace

Fetcher::Fetcher(const SourceRegistry& sources, const FetcherOptions& options)
    : sources_(sources), options_(options), cache_(options.cache_size) {
  if (options.disk.directory.empty()) return;
  auto opened = DiskCache::open(options.disk);
  if (opened) {
    disk_ = std::move(*opened);
  } else if (options.disk.log) {
    options.disk.log(opened.error().message + ": no disk cache, memory only");
  }
}

std::optional<DiskCacheStats> Fetcher::disk_cache_stats() const {
  if (!disk_) return std::nullopt;
  return disk_->stats();
}

std::vector<const Target*> Fetcher::targets(std::span<const std::string> urls) {
  std::vector<const Target*> table;
  table.reserve(urls.size());
  const std::lock_guard lock(targets_mutex_);
  for (const std::string& url : urls) {
    auto found = by_url_.find(url);
    if (found == by_url_.end()) {
      Target& made = targets_.emplace_back(url, sources_.find(url), url_scheme(url) != "file",
                                           static_cast<std::uint32_t>(targets_.size()));
      found = by_url_.emplace(made.url, &made).first;
    }
    table.push_back(found->second);
  }
  return table;
}

std::vector<CacheKey> Fetcher::blocks_for(const Extent& extent, std::uint64_t position, std::uint64_t end) const {
  const std::uint32_t id = extent.target->id;
  if (!is_large(extent)) return {CacheKey{id, extent.offset, extent.length}};
  // Aligned to the target, not to the extent, so overlapping references share blocks.
  const std::uint64_t extent_end = extent.offset + extent.length;
  std::vector<CacheKey> keys;
  const std::uint64_t block = options_.block_size;
  for (std::uint64_t start = (extent.offset + position) / block * block; start < extent.offset + end; start += block) {
    const std::uint64_t from = std::max(start, extent.offset);
    keys.push_back(CacheKey{id, from, std::min(start + block, extent_end) - from});
  }
  return keys;
}

void Fetcher::read(const Extent& extent, std::uint64_t position, std::size_t length, BytesDone done) {
  if (position >= extent.length) return done(std::span<const char>{});
  length = static_cast<std::size_t>(std::min<std::uint64_t>(length, extent.length - position));
  const Target& target = *extent.target;
  if (!target.cached) {
    target.source->read(target.url, extent.offset + position, length,
                        [done = std::move(done)](const common::Result<ReadAnswer>& answer) {
                          if (!answer) return done(answer.error());
                          done(std::span<const char>(answer->bytes));
                        });
    return;
  }
  auto gather = std::make_shared<Gather>(blocks_for(extent, position, position + length), extent.offset + position,
                                         length, std::move(done));
  for (std::size_t i = 0; i < gather->keys().size(); ++i) {
    const CacheKey& key = gather->keys()[i];
    const auto found =
        cache_.lookup(key, [gather, i](const common::Result<Bytes>& bytes) { gather->arrive(i, bytes); });
    if (found.outcome == BlockCache::Lookup::Hit) {
      gather->arrive(i, found.bytes);
    } else if (found.outcome == BlockCache::Lookup::Failed) {
      gather->arrive(i, common::Error{found.error.message + " (failed less than a second ago)", found.error.code});
    } else if (found.outcome == BlockCache::Lookup::MustFetch) {
      fetch_into_cache(target, key.offset, key.length, {key});
    }
  }
}

std::optional<common::Result<FileSlice>> Fetcher::file_slice(const Extent& extent, std::uint64_t position,
                                                             std::size_t length) const {
  if (extent.target->cached || position >= extent.length) return std::nullopt;
  length = static_cast<std::size_t>(std::min<std::uint64_t>(length, extent.length - position));
  return extent.target->source->file_slice(extent.target->url, extent.offset + position, length);
}

void Fetcher::read_shared(const Extent& extent, std::function<void(const common::Result<Bytes>&)> done) {
  const auto checked = [length = extent.length, done = std::move(done)](const common::Result<Bytes>& bytes) {
    if (bytes && bytes->size() != length) {
      return done(common::Error{"target ends before the referenced range: got " + std::to_string(bytes->size()) +
                                " of " + std::to_string(length) + " bytes"});
    }
    done(bytes);
  };
  if (!extent.target->cached || is_large(extent)) {
    return read(extent, 0, extent.length, [checked](const common::Result<std::span<const char>>& bytes) {
      if (!bytes) return checked(bytes.error());
      checked(Bytes::whole(std::string(bytes->data(), bytes->size())));
    });
  }
  const CacheKey key{extent.target->id, extent.offset, extent.length};
  const auto found = cache_.lookup(key, checked);
  switch (found.outcome) {
    case BlockCache::Lookup::Hit:
      return checked(found.bytes);
    case BlockCache::Lookup::Failed:
      return checked(common::Error{found.error.message + " (failed less than a second ago)", found.error.code});
    case BlockCache::Lookup::MustFetch:
      return fetch_into_cache(*extent.target, key.offset, key.length, {key});
    case BlockCache::Lookup::Joined:
      return;
  }
}

void Fetcher::prefetch_range(const Extent& extent, std::uint64_t position, std::uint64_t length) {
  if (!extent.target->cached || position >= extent.length || length == 0) return;
  const std::uint64_t end = std::min(extent.length, position + length);
  for (const CacheKey& key : blocks_for(extent, position, end)) {
    if (cache_.claim(key)) fetch_into_cache(*extent.target, key.offset, key.length, {key});
  }
}

void Fetcher::fetch_into_cache(const Target& target, std::uint64_t offset, std::uint64_t length,
                               std::vector<CacheKey> keys) {
  if (!disk_) return fetch_from_source(target, offset, length, std::move(keys));
  with_disk_version(
      target, [this, &target, offset, length, keys = std::move(keys)](std::optional<std::string> validator) mutable {
        if (!validator) return fetch_from_source(target, offset, length, std::move(keys));
        disk_->run([this, &target, keys = std::move(keys), validator = std::move(*validator)] {
          std::vector<CacheKey> missing;
          for (const CacheKey& key : keys) {
            auto bytes = disk_->read(target.url, validator, key.offset, key.length);
            if (bytes) {
              cache_.complete(key, Bytes::whole(std::move(*bytes)));
            } else {
              missing.push_back(key);
            }
          }
          if (missing.empty()) return;
          std::uint64_t end = 0;
          for (const CacheKey& key : missing) end = std::max(end, key.offset + key.length);
          const std::uint64_t start = missing.front().offset;
          fetch_from_source(target, start, end - start, std::move(missing));
        });
      });
}

void Fetcher::with_disk_version(const Target& target, std::function<void(std::optional<std::string>)> then) {
  Target::DiskVersion& disk = target.disk;
  std::unique_lock lock(disk.mutex);
  switch (disk.state) {
    case Target::DiskVersion::State::Known: {
      std::string validator = disk.validator;
      lock.unlock();
      return then(std::move(validator));
    }
    case Target::DiskVersion::State::Absent:
      lock.unlock();
      return then(std::nullopt);
    case Target::DiskVersion::State::Checking:
      disk.waiting.push_back(std::move(then));
      return;
    case Target::DiskVersion::State::Unknown:
      disk.state = Target::DiskVersion::State::Checking;
      disk.waiting.push_back(std::move(then));
      break;
  }
  lock.unlock();
  disk_->run([this, &target] {
    auto record = disk_->record(target.url);
    if (!record) return settle_disk_version(target, std::nullopt, false);
    if (record->trusted) {
      // No request: later answers must still be of this version, or they fail.
      target.source->pin_version(target.url, record->validator);
      return settle_disk_version(target, std::move(record->validator), false);
    }
    // One byte names the object's version now (and holds the engine to it for this mount).
    target.source->read(target.url, 0, 1,
                        [this, &target, held = std::move(record->validator)](const common::Result<ReadAnswer>& answer) {
                          if (!answer)
                            return settle_disk_version(target, std::nullopt, true);  // unknown: ask again next time
                          const bool same = answer->validator == held;
                          disk_->run([this, &target, same, held] {
                            if (same) {
                              disk_->confirm(target.url);
                              return settle_disk_version(target, held, false);
                            }
                            disk_->forget(target.url);
                            settle_disk_version(target, std::nullopt, false);
                          });
                        });
  });
}

void Fetcher::settle_disk_version(const Target& target, std::optional<std::string> validator, bool ask_again) {
  Target::DiskVersion& disk = target.disk;
  std::vector<std::function<void(std::optional<std::string>)>> waiting;
  {
    const std::lock_guard lock(disk.mutex);
    if (ask_again) {
      disk.state = Target::DiskVersion::State::Unknown;
    } else if (validator) {
      disk.state = Target::DiskVersion::State::Known;
      disk.validator = *validator;
    } else {
      disk.state = Target::DiskVersion::State::Absent;
    }
    waiting.swap(disk.waiting);
  }
  for (auto& then : waiting) then(validator);
}

bool Fetcher::disk_takes(const Target& target, const std::string& validator) {
  if (validator.empty()) return false;  // a version the next mount could not check
  Target::DiskVersion& disk = target.disk;
  const std::lock_guard lock(disk.mutex);
  switch (disk.state) {
    case Target::DiskVersion::State::Known:
      return disk.validator == validator;
    case Target::DiskVersion::State::Checking:
      return false;
    case Target::DiskVersion::State::Unknown:
    case Target::DiskVersion::State::Absent:
      disk.state = Target::DiskVersion::State::Known;
      disk.validator = validator;
      return true;
  }
  return false;
}

void Fetcher::fetch_from_source(const Target& target, std::uint64_t offset, std::uint64_t length,
                                std::vector<CacheKey> keys) {
  // Each range is completed as soon as its bytes are in, so a reader of the first chunk of a
  // large coalesced request does not wait for the rest. Progress and completion come from one
  // thread, one after the other, so this state needs no lock.
  struct Delivery {
    std::vector<CacheKey> keys;  // in offset order
    std::size_t next = 0;        // keys before this one are complete
    Bytes so_far;                // the answer's bytes received
  };
  auto delivery = std::make_shared<Delivery>();
  delivery->keys = std::move(keys);
  target.source->read_streaming(
      target.url, offset, length,
      [this, offset, delivery](const Bytes& so_far) {
        delivery->so_far = so_far;
        for (; delivery->next < delivery->keys.size(); ++delivery->next) {
          const CacheKey& key = delivery->keys[delivery->next];
          const std::uint64_t from = key.offset - offset;
          if (from + key.length > so_far.size()) break;
          cache_.complete(key, so_far.part(from, key.length));
        }
      },
      [this, &target, offset, delivery](const common::Result<ReadAnswer>& result) {
        const std::string& url = target.url;
        const Bytes& so_far = delivery->so_far;
        if (disk_ && result && so_far && disk_takes(target, result->validator)) {
          for (const CacheKey& key : delivery->keys) {
            const std::uint64_t from = key.offset - offset;
            if (from + key.length > so_far.size()) break;  // the target ended early: not kept
            disk_->write(url, result->validator, key.offset, so_far.part(from, key.length));
          }
        }
        for (; delivery->next < delivery->keys.size(); ++delivery->next) {
          const CacheKey& key = delivery->keys[delivery->next];
          if (!result || !so_far) {
            cache_.complete(
                key, result ? common::Error{"GET " + redact_url(url) + ": an answer without a body"} : result.error());
            continue;
          }
          // The target ended before this range did: what there is, which the reader finds short.
          const std::uint64_t from = std::min<std::uint64_t>(key.offset - offset, so_far.size());
          cache_.complete(key, so_far.part(from, key.length));
        }
      });
}

void Fetcher::prefetch(std::span<const Extent> extents) {
  // Grouped by target in the order the extents come (a reader's order: the engine sends requests
  // in the order they are made), not in the order of the targets' addresses.
  std::vector<std::pair<const Target*, std::vector<CacheKey>>> by_target;
  std::unordered_map<const Target*, std::size_t> group_of;
  for (const Extent& extent : extents) {
    // Large extents are read block by block as they are used (see prefetch_range).
    if (!extent.target->cached || is_large(extent)) continue;
    const CacheKey key{extent.target->id, extent.offset, extent.length};
    if (!cache_.claim(key)) continue;
    const auto [group, added] = group_of.try_emplace(extent.target, by_target.size());
    if (added) by_target.emplace_back(extent.target, std::vector<CacheKey>());
    by_target[group->second].second.push_back(key);
  }
  for (auto& [target, keys] : by_target) {
    std::vector<ByteRange> ranges;
    ranges.reserve(keys.size());
    for (const CacheKey& key : keys) ranges.push_back(ByteRange{key.offset, key.length});
    for (const MergedRange& merged : coalesce(ranges, options_.max_gap, options_.max_block)) {
      std::vector<CacheKey> members;
      for (const std::size_t index : merged.members) members.push_back(keys[index]);
      fetch_into_cache(*target, merged.offset, merged.length, std::move(members));
    }
  }
}

void Fetcher::size(const Target& target, SizeDone done) {
  const std::int64_t known = target.size.load(std::memory_order_relaxed);
  if (known >= 0) return done(static_cast<std::uint64_t>(known));
  // Targets live as long as the Fetcher, which outlives the sources' callbacks (stop_all).
  target.source->size(target.url, [&target, done = std::move(done)](common::Result<std::uint64_t> size) {
    if (size) target.size.store(static_cast<std::int64_t>(*size), std::memory_order_relaxed);
    done(std::move(size));
  });
}

}  // namespace kerchunkfs::fetch
