// The read-only FUSE filesystem over a RefStore, on libfuse's low-level API.
//
// Inode numbers are node ids plus one, so lookups need no table and forget needs no bookkeeping;
// the one after them is the synthesized /.zmetadata.
// The reference set never changes under a mount, so entries, attributes and negative lookups are
// cached by the kernel for a long time and page-cache contents are kept across opens.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/log.h"
#include "daemon/prefetcher.h"
#include "fetch/fetcher.h"
#include "fetch/source_registry.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

struct FilesystemOptions {
  double cache_timeout = 86400.0;  // seconds the kernel may trust entries and attributes
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec mtime {};  // shown for every file: the reference file's modification time
  fetch::FetcherOptions fetch;
  fetch::S3Options s3;
  std::uint64_t prefetch_bytes = 64ull << 20;  // read-ahead budget per chunk read; 0 turns it off
  bool consolidated = true;  // offer a synthesized /.zmetadata when the set has none
};

// An error naming the first URL whose scheme no source serves and a key that uses it, if any.
std::optional<std::string> find_unsupported_url(const refstore::RefStore& store, const fetch::SourceRegistry& sources);

class Filesystem {
 public:
  Filesystem(refstore::RefStore store, const fetch::SourceRegistry& sources, const Logger& log,
             FilesystemOptions options);

  // The operations table; the session's userdata must point at a Filesystem.
  static const fuse_lowlevel_ops& operations();

  // One line on what the block cache did, for the log at unmount.
  std::string cache_summary() const;

 private:
  struct Ops;

  void init(fuse_conn_info* conn);
  void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void getattr(fuse_req_t req, fuse_ino_t ino);
  void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset);
  void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, bool plus);
  void statfs(fuse_req_t req);

  // Calls then(errno, size) once the node's size is known; whole-file targets are asked once.
  template <class Then>
  void with_size(refstore::NodeId node, Then then);
  struct stat attributes(refstore::NodeId node, std::uint64_t size) const;
  fuse_entry_param entry_param(refstore::NodeId node, std::uint64_t size) const;
  bool valid(fuse_ino_t ino) const { return ino >= 1 && ino <= store_.node_count(); }

  // The synthesized /.zmetadata: an inode just past the store's, its text made on first use.
  fuse_ino_t consolidated_ino() const { return store_.node_count() + 1; }
  const std::string* consolidated();
  struct stat consolidated_attributes(std::size_t size) const;

  // Starts fetching the chunks that follow `node` in its array. The chunk being read is not in
  // that batch: it is fetched on its own, so its read never waits for read-ahead bytes.
  void prefetch_after(refstore::NodeId node, const fetch::Extent& extent);

  refstore::RefStore store_;
  const Logger& log_;
  FilesystemOptions options_;
  fetch::Fetcher fetcher_;
  Prefetcher prefetcher_;
  std::uint64_t total_bytes_ = 0;
  bool skip_open_ = false;     // the kernel opens files without asking (and keeps their cache)
  bool skip_opendir_ = false;  // ... and directories (and caches their listings)
  std::once_flag consolidated_once_;
  std::string consolidated_;
};

}  // namespace kerchunkfs::daemon
