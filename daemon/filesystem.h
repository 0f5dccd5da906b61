// The read-only FUSE filesystem over a RefStore, on libfuse's low-level API.
//
// A reference set can be replaced while mounted (SIGHUP, -o watch): each one loaded is a
// generation, and an inode number says whose node it is — the generation in its high 32 bits,
// the node id plus one in its low 32 bits (generation 0's inode numbers are just node id + 1;
// the root is always inode 1, the current generation's). Lookups resolve in the current
// generation; inodes the kernel still holds, open files among them, keep reading their own until
// the kernel forgets them. Within a generation nothing changes, so entries, attributes and
// negative lookups are cached by the kernel for a long time and page-cache contents are kept.
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/log.h"
#include "daemon/prefetcher.h"
#include "daemon/stats.h"
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
  bool stats = true;         // offer /.kerchunkfs/stats
  // Real paths of the directories local targets may lie in; none: local targets are refused.
  std::vector<std::string> local_roots;
  std::uint64_t max_keys = 100'000'000;  // larger reference sets are refused at load
};

class Filesystem {
 public:
  Filesystem(refstore::RefStore store, const fetch::SourceRegistry& sources, const Logger& log,
             FilesystemOptions options);
  ~Filesystem();

  // The operations table; the session's userdata must point at a Filesystem.
  static const fuse_lowlevel_ops& operations();

  // Serves `store` from now on (shown with `mtime`); the kernel's cached entries of the root are
  // invalidated through `session` so that paths resolve again, in the new generation.
  void replace(refstore::RefStore store, const struct timespec& mtime, fuse_session* session);

  // One line on what the block cache did, for the log at unmount.
  std::string cache_summary() const;
  // Generations still held (the current one and those the kernel has not forgotten), for tests.
  std::size_t generation_count() const;
  // Counts a reload that was refused, for the stats.
  void count_failed_reload() { reads_.failed_reloads += 1; }

 private:
  struct Ops;
  struct Generation;
  using GenerationPtr = std::shared_ptr<Generation>;
  struct Node {  // what an inode number stands for
    GenerationPtr generation;
    refstore::NodeId node = 0;
    bool consolidated = false;  // the synthesized /.zmetadata
  };

  void init(fuse_conn_info* conn);
  void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void forget(fuse_ino_t ino, std::uint64_t count);
  void getattr(fuse_req_t req, fuse_ino_t ino);
  void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  void opendir(fuse_req_t req, fuse_ino_t ino);
  void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset);
  void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, bool plus);
  void statfs(fuse_req_t req);

  GenerationPtr make_generation(refstore::RefStore store, const struct timespec& mtime);
  std::optional<Node> resolve(fuse_ino_t ino) const;
  GenerationPtr current() const;
  // Counts an inode number handed to the kernel, which forgets it later.
  void remember(Generation& generation) const;

  // Calls then(errno, size) once the node's size is known; whole-file targets are asked once.
  template <class Then>
  void with_size(const GenerationPtr& generation, refstore::NodeId node, Then then);
  struct stat attributes(const Node& node, std::uint64_t size) const;
  fuse_entry_param entry_param(const Node& node, std::uint64_t size) const;
  const std::string* consolidated(Generation& generation) const;
  // /.kerchunkfs (hidden from the root's listing) and /.kerchunkfs/stats: answered first by
  // every operation, true when `ino` was one of them.
  bool stats_lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  bool stats_request(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, char operation, bool plus = false);
  std::string stats_text() const;

  // Starts fetching the chunks that follow `node` in its array. The chunk being read is not in
  // that batch: it is fetched on its own, so its read never waits for read-ahead bytes.
  void prefetch_after(Generation& generation, refstore::NodeId node, const fetch::Extent& extent);

  const fetch::SourceRegistry& sources_;
  const Logger& log_;
  FilesystemOptions options_;
  mutable std::mutex generations_mutex_;
  std::map<std::uint32_t, GenerationPtr> generations_;  // by number: the current one and those still held
  std::uint32_t current_ = 0;
  bool skip_open_ = false;     // the kernel opens files without asking (and keeps their cache)
  bool skip_opendir_ = false;  // ... and directories (and caches their listings)
  ReadCounters reads_;
  std::atomic<std::uint64_t> stats_lookups_{0};
};

}  // namespace kerchunkfs::daemon
