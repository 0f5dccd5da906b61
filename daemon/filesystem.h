// The mount's file system logic, apart from libfuse's request and reply calls (those are in
// daemon/fuse_adapter.h), so that it can be driven by tests with a fake byte source.
//
// A reference set can be replaced while mounted (SIGHUP, -o watch): each one loaded is a
// generation, and an inode number says whose node it is — the generation in its high 32 bits,
// the node id plus one in its low 32 bits (the root is always inode 1, the current generation's).
// Every inode the kernel holds is in one table, resolved when it was looked up: its generation,
// its node, and for a file its content (daemon/content.h); FORGET drops it, and a generation
// lives as long as an inode of it does (or it is the current one). Lookups resolve in the
// current generation. Within a generation nothing changes, so entries, attributes and negative
// lookups are cached by the kernel for a long time and page-cache contents are kept. Every
// generation reads through the mount's one Fetcher, sharing its block cache.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "daemon/assembled_array.h"
#include "daemon/chunk_decoder.h"
#include "daemon/content.h"
#include "daemon/filesystem_options.h"
#include "daemon/log.h"
#include "daemon/reference_set.h"
#include "daemon/stats.h"
#include "fetch/fetcher.h"
#include "fetch/object_store.h"
#include "fetch/source_registry.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

using Ino = std::uint64_t;
inline constexpr Ino kRootIno = 1;

// What a lookup answers: an inode the kernel now holds (ino 0: a negative entry, "no such name",
// which the kernel may remember for `entry_timeout`).
struct EntryReply {
  Ino ino = 0;
  struct stat attr {};
  double attr_timeout = 0;
  double entry_timeout = 0;
};
struct AttrReply {
  struct stat attr {};
  double timeout = 0;
};
struct OpenReply {
  bool keep_cache = false;     // the kernel may keep the page cache from earlier opens
  bool direct_io = false;      // every read comes to the daemon (live content)
  bool cache_readdir = false;  // the kernel may cache the listing
};
// One listing entry; `entry.ino` is 0 where the entry is not a lookup ("." and "..", plain
// readdir, or a file whose size is not known yet).
struct DirEntry {
  std::string_view name;
  EntryReply entry;
  std::uint64_t next_offset = 0;
};

class Filesystem {
 public:
  Filesystem(ReferenceSet set, const fetch::SourceRegistry& sources, const Logger& log, FilesystemOptions options);
  ~Filesystem();
  Filesystem(const Filesystem&) = delete;
  Filesystem& operator=(const Filesystem&) = delete;

  // The requests, answered through their callbacks (at once, or later on another thread).
  void lookup(Ino parent, std::string_view name, std::function<void(common::Result<EntryReply>)> done);
  void forget(Ino ino, std::uint64_t count);
  void getattr(Ino ino, std::function<void(common::Result<AttrReply>)> done);
  [[nodiscard]] common::Result<OpenReply> open(Ino ino, int flags);
  [[nodiscard]] common::Result<OpenReply> opendir(Ino ino);
  // Errors name the file's key; the caller only counts and answers.
  void read(Ino ino, std::uint64_t offset, std::size_t size, ContentRead done);
  // What read() would answer, as a slice of a local file to splice the reply from; nothing when
  // read() must answer (see Content::file_slice).
  std::optional<fetch::FileSlice> file_slice(Ino ino, std::uint64_t offset, std::size_t size);
  // Entries from `offset` on, each offered to `emit` until it returns false (no room left):
  // only entries it took count as lookups.
  [[nodiscard]] common::Status readdir(Ino ino, std::uint64_t offset, bool plus,
                                       const std::function<bool(const DirEntry&)>& emit);
  struct statvfs statfs() const;
  // Ends the decoding workers, which answer reads from their own threads: called, like the
  // sources' stop, before the FUSE session is destroyed.
  void stop_workers() { decoder_.stop(); }

  // Serves `set` from now on (shown with `mtime`). Returns the names in the root whose cached
  // entries the kernel must drop (those of the old and the new set), so paths resolve again.
  std::vector<std::string> replace(ReferenceSet set, const struct timespec& mtime);
  void count_failed_reload() { counters_.failed_reloads += 1; }

  // Read counters: the FUSE adapter counts every read it answers here.
  ReadCounters& counters() { return counters_; }
  // Counters of the whole mount, as /.kerchunkfs/stats shows them.
  std::string stats_text() const;
  // One line on what the block cache and HTTP did, for the log at unmount.
  std::string summary() const;
  // Generations still held (the current one and those the kernel has not forgotten), for tests.
  std::size_t generation_count() const { return live_generations_.load(); }

 private:
  struct Generation;
  using GenerationPtr = std::shared_ptr<Generation>;
  struct Inode {
    GenerationPtr generation;
    refstore::NodeId node = 0;
    std::shared_ptr<const Content> content;  // null for a directory
    std::uint64_t lookups = 0;
  };
  using InodePtr = std::shared_ptr<Inode>;

  GenerationPtr current() const;
  // The inode the kernel holds as `ino`: the root, the statistics directory, or one in the table.
  InodePtr resolve(Ino ino) const;
  // Counts one more lookup of `ino`, adding it to the table with `make` on its first.
  void remember(Ino ino, const std::function<Inode()>& make);
  // What attributes depend on: a directory, a file, or a file whose bytes change while mounted.
  enum class Shape { Directory, File, LiveFile };
  static Shape shape_of(const Inode& inode);
  struct stat attributes(const Generation& generation, Ino ino, Shape shape, std::uint64_t size) const;
  EntryReply entry(const Generation& generation, Ino ino, Shape shape, std::uint64_t size) const;
  const std::string* consolidated(Generation& generation) const;
  bool is_stats_directory(Ino ino) const;
  void lookup_stats(std::string_view name, const std::function<void(common::Result<EntryReply>)>& done);
  common::Status readdir_stats(std::uint64_t offset, const std::function<bool(const DirEntry&)>& emit);
  // An array whose chunk files no key names (assembled, or in a chunk table): its own files,
  // then a file per chunk of `grid` that `listed` (when given) shows, numbered from `first_ordinal`.
  common::Status readdir_synthesized(Generation& generation, refstore::NodeId directory, const common::ChunkGrid& grid,
                                     std::uint64_t first_ordinal, std::uint64_t chunk_size, std::uint64_t offset,
                                     const std::function<bool(const DirEntry&)>& emit,
                                     const std::function<bool(std::uint64_t chunk)>& listed);
  // Answers a lookup of the file `made` once its content knows its size (errors logged with `key`).
  void answer_file(const InodePtr& made, Ino ino, std::string key,
                   std::function<void(common::Result<EntryReply>)> done);
  // The target of a URL a chunk table names, once the untrusted-set policy allows it.
  [[nodiscard]] common::Result<const fetch::Target*> row_target(const std::string& url);
  // A chunk file of an array whose chunks a chunk table holds: its reference read now.
  void lookup_chunk(const std::shared_ptr<Generation>& generation, refstore::NodeId directory, std::string_view name,
                    std::function<void(common::Result<EntryReply>)> done);

  const fetch::SourceRegistry& sources_;
  const Logger& log_;
  FilesystemOptions options_;
  ReadCounters counters_;
  std::atomic<std::size_t> live_generations_{0};  // before the generations: they count down in it
  fetch::Fetcher fetcher_;
  ChunkDecoder decoder_;      // after the fetcher: its workers stop before the fetcher goes
  mutable std::mutex mutex_;  // guards current_ and inodes_
  GenerationPtr current_;
  std::uint32_t next_generation_ = 0;
  std::unordered_map<Ino, InodePtr> inodes_;
  std::atomic<std::uint64_t> stats_lookups_{0};
};

}  // namespace kerchunkfs::daemon
