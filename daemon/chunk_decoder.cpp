#include "daemon/chunk_decoder.h"

#include <chrono>

namespace kerchunkfs::daemon {

using common::Result;

ChunkDecoder::ChunkDecoder(std::uint64_t cache_bytes, unsigned threads)
    : cache_(cache_bytes), thread_count_(threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency())) {}

ChunkDecoder::~ChunkDecoder() { stop(); }

void ChunkDecoder::stop() {
  std::vector<std::thread> workers;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    workers.swap(workers_);
  }
  wake_.notify_all();
  for (std::thread& worker : workers) worker.join();
}

void ChunkDecoder::get(const fetch::CacheKey& key, const Make& make, const Done& done) {
  fetch::BlockCache::Found found = cache_.lookup(key, done);
  switch (found.outcome) {
    case fetch::BlockCache::Lookup::Hit:
      return done(found.bytes);
    case fetch::BlockCache::Lookup::Failed:
      return done(found.error);
    case fetch::BlockCache::Lookup::Joined:
      return;
    case fetch::BlockCache::Lookup::MustFetch:
      return make([this, key](Result<std::string> made) { finish(key, std::move(made)); });
  }
}

void ChunkDecoder::prefetch(const fetch::CacheKey& key, const Make& make) {
  if (cache_.claim(key)) make([this, key](Result<std::string> made) { finish(key, std::move(made)); });
}

void ChunkDecoder::finish(const fetch::CacheKey& key, Result<std::string> made) {
  if (!made) return cache_.complete(key, made.error());
  cache_.complete(key, fetch::Bytes::whole(std::move(*made)));
}

ChunkDecoder::Make ChunkDecoder::decoding(std::shared_ptr<const codec::Pipeline> pipeline, Stored stored) {
  return [this, pipeline = std::move(pipeline), stored = std::move(stored)](Made made) {
    stored([this, pipeline, made = std::move(made)](const Result<fetch::Bytes>& bytes) {
      if (!bytes) return made(bytes.error());
      // The callback runs on a fetch thread: the decoding goes to a worker, holding the bytes.
      post([this, pipeline, made, input = *bytes] {
        const auto began = std::chrono::steady_clock::now();
        Result<std::string> decoded = pipeline->decode(input.view);
        counters_.nanoseconds += static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - began).count());
        if (!decoded) {
          counters_.failures += 1;
        } else {
          counters_.chunks += 1;
          counters_.stored_bytes += input.size();
          counters_.decoded_bytes += decoded->size();
        }
        made(std::move(decoded));
      });
    });
  };
}

void ChunkDecoder::post(std::function<void()> task) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push_back(std::move(task));
    if (workers_.empty()) {
      for (unsigned i = 0; i < thread_count_; ++i) workers_.emplace_back([this] { work(); });
    }
  }
  wake_.notify_one();
}

void ChunkDecoder::work() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace kerchunkfs::daemon
