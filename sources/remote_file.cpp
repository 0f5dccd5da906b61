#include "sources/remote_file.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <vector>

namespace kerchunkfs::sources {
namespace {

// One request's answer, waited for on this thread.
std::future<common::Result<fetch::ReadAnswer>> start_read(fetch::ByteSource& source, const std::string& url,
                                                          std::uint64_t offset, std::uint64_t length) {
  auto promise = std::make_shared<std::promise<common::Result<fetch::ReadAnswer>>>();
  auto answer = promise->get_future();
  source.read(url, offset, length,
              [promise](common::Result<fetch::ReadAnswer> result) { promise->set_value(std::move(result)); });
  return answer;
}

}  // namespace

RemoteFile::RemoteFile(std::string url, fetch::ByteSource& source, const RemoteReadOptions& options)
    : url_(std::move(url)), source_(source), options_(options), cache_(options.cache_size, 1) {
  if (options_.block_size > 0) {
    options_.first_read = std::max<std::uint64_t>(
        (options_.first_read + options_.block_size - 1) / options_.block_size * options_.block_size,
        options_.block_size);
  }
  const std::uint64_t first = options_.block_size > 0 ? options_.first_read : 512;  // the superblock's first place
  auto result = fetch(0, first);
  if (!result) return;  // failure_ says why
  if (result->object_size) {
    size_ = *result->object_size;
  } else if (result->bytes.size() < first) {
    size_ = result->bytes.size();  // the object ended inside the first read
  } else {
    std::promise<common::Result<std::uint64_t>> promise;
    auto answer = promise.get_future();
    source_.size(url_, [&promise](common::Result<std::uint64_t> size) { promise.set_value(std::move(size)); });
    const common::Result<std::uint64_t> size = answer.get();
    ++requests_;
    if (!size) {
      failure_ = size.error().message;
      return;
    }
    size_ = *size;
  }
  if (options_.block_size > 0 && !result->bytes.empty()) {
    const std::uint64_t last = (result->bytes.size() - 1) / options_.block_size;
    for (std::uint64_t block = 0; block <= last; ++block) cache_.claim(key(block));  // a new cache: all free
    complete_blocks(0, last, std::move(result));
  }
}

fetch::CacheKey RemoteFile::key(std::uint64_t block) const {
  return {0, block * options_.block_size, options_.block_size};
}

common::Result<fetch::ReadAnswer> RemoteFile::fetch(std::uint64_t offset, std::uint64_t length) {
  ++requests_;
  auto result = start_read(source_, url_, offset, length).get();
  if (!result && failure_.empty()) failure_ = result.error().message;
  return result;
}

// Ends the claimed fetches of blocks [first, last] with the answer that covers them from the start
// of `first`: as views into it (splitting copies nothing), or with its error.
void RemoteFile::complete_blocks(std::uint64_t first, std::uint64_t last, common::Result<fetch::ReadAnswer> result) {
  if (!result && failure_.empty()) failure_ = result.error().message;
  const auto bytes = std::make_shared<const std::string>(result ? std::move(result->bytes) : std::string());
  for (std::uint64_t block = first; block <= last; ++block) {
    if (!result) {
      cache_.complete(key(block), result.error());
      continue;
    }
    const std::uint64_t at = std::min<std::uint64_t>((block - first) * options_.block_size, bytes->size());
    cache_.complete(key(block), fetch::Bytes{bytes, std::string_view(*bytes).substr(at, options_.block_size)});
  }
}

void RemoteFile::prefetch(std::span<const ByteRange> ranges) {
  if (options_.block_size == 0) return;
  struct Run {
    std::uint64_t first, last;
    std::future<common::Result<fetch::ReadAnswer>> answer;
  };
  std::vector<Run> runs;
  for (const ByteRange& range : ranges) {
    if (range.offset >= size_ || range.length == 0) continue;
    const std::uint64_t end = std::min(size_, range.offset + range.length);
    for (std::uint64_t block = range.offset / options_.block_size; block <= (end - 1) / options_.block_size; ++block) {
      if (!cache_.claim(key(block))) continue;  // cached already
      if (!runs.empty() && runs.back().last + 1 == block) {
        runs.back().last = block;
      } else {
        runs.push_back({block, block, {}});
      }
    }
  }
  for (Run& run : runs) {
    const std::uint64_t start = run.first * options_.block_size;
    run.answer = start_read(source_, url_, start, std::min((run.last + 1) * options_.block_size, size_) - start);
    ++requests_;
  }
  for (Run& run : runs) complete_blocks(run.first, run.last, run.answer.get());
}

bool RemoteFile::read(std::uint64_t offset, std::size_t length, char* out) {
  if (offset > size_ || length > size_ - offset) return false;
  if (length == 0) return true;
  if (options_.block_size == 0) {
    const auto result = fetch(offset, length);
    if (!result) return false;
    if (result->bytes.size() != length) {
      if (failure_.empty()) failure_ = url_ + ": the object is shorter than its stated size";
      return false;
    }
    std::memcpy(out, result->bytes.data(), length);
    return true;
  }
  const ByteRange wanted{offset, length};
  prefetch(std::span(&wanted, 1));
  const std::uint64_t block_size = options_.block_size;
  for (std::uint64_t block = offset / block_size, done = 0; done < length; ++block) {
    auto found = cache_.lookup(key(block), [](const common::Result<fetch::Bytes>&) {});
    fetch::Bytes bytes = found.bytes;
    switch (found.outcome) {
      case fetch::BlockCache::Lookup::Hit:
        break;
      case fetch::BlockCache::Lookup::MustFetch: {
        // Evicted by the rest of this read, which is larger than the whole cache.
        const std::uint64_t start = block * block_size;
        auto result = fetch(start, std::min(block_size, size_ - start));
        if (!result) {
          cache_.complete(key(block), result.error());
          return false;
        }
        bytes = fetch::Bytes::whole(std::move(result->bytes));
        cache_.complete(key(block), bytes);
        break;
      }
      default:  // failed moments ago (no other reader shares this cache to join)
        if (failure_.empty()) failure_ = found.error.message;
        return false;
    }
    const std::uint64_t within = offset + done - block * block_size;
    if (within >= bytes.size()) {
      if (failure_.empty()) failure_ = url_ + ": the object is shorter than its stated size";
      return false;
    }
    const std::uint64_t take = std::min<std::uint64_t>(bytes.size() - within, length - done);
    std::memcpy(out + done, bytes.view.data() + within, take);
    done += take;
  }
  return true;
}

}  // namespace kerchunkfs::sources
