// A remote HDF5 file (http(s)://, s3://, gs://) read for a scan: through the fetch engine, in
// aligned blocks kept in a block cache, so that the HDF5 library's thousands of small metadata
// reads become a few large requests.
//
// The first request asks for the first `first_read` bytes and learns the object's size from the
// same answer (Content-Range), so a file no larger than that costs exactly one request. After
// that a read that misses the cache fetches the run of blocks it touches in one request; reads
// that miss several separate runs fetch them at once. The sizes were chosen by measurement
// (bench/run_remote_scan.py): see the README's remote scan table.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "fetch/block_cache.h"
#include "fetch/byte_source.h"
#include "sources/file_bytes.h"

namespace kerchunkfs::sources {

struct RemoteReadOptions {
  // 0: no cache at all, every read is its own request of exactly the bytes asked for (what a
  // reader without buffering would send; the benchmark's baseline).
  std::uint64_t block_size = 64 << 10;
  std::uint64_t first_read = 2 << 20;  // rounded up to whole blocks
  std::uint64_t cache_size = 256 << 20;
};

class RemoteFile final : public FileBytes {
 public:
  // Sends the first request; when it fails, failure() says why (naming the URL) and nothing is read.
  RemoteFile(std::string url, fetch::ByteSource& source, const RemoteReadOptions& options);

  std::uint64_t size() override { return size_; }
  bool read(std::uint64_t offset, std::size_t length, char* out) override;
  // Fetches the uncached blocks of all these ranges at once: one request per run of adjacent
  // blocks, all in flight together.
  void prefetch(std::span<const ByteRange> ranges) override;

  const std::string& url() const { return url_; }
  // The first failed read's message (naming the URL and range); empty while none failed.
  const std::string& failure() const { return failure_; }
  std::uint64_t requests() const { return requests_; }

 private:
  // Bytes [offset, offset + length) of the object in one request; false (and failure_) on error.
  // One request's bytes, waited for here; a failure is also kept as the file's first failure.
  [[nodiscard]] common::Result<fetch::ReadAnswer> fetch(std::uint64_t offset, std::uint64_t length);
  void complete_blocks(std::uint64_t first, std::uint64_t last, common::Result<fetch::ReadAnswer> result);
  fetch::CacheKey key(std::uint64_t block) const;

  std::string url_;
  fetch::ByteSource& source_;
  RemoteReadOptions options_;
  fetch::BlockCache cache_;
  std::uint64_t size_ = 0;
  std::uint64_t requests_ = 0;
  std::string failure_;
};

}  // namespace kerchunkfs::sources
