#include "daemon/filesystem.h"

#include <fcntl.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "daemon/consolidated.h"

namespace kerchunkfs::daemon {
namespace {

using refstore::EntryKind;
using refstore::NodeId;

constexpr std::uint64_t kBlockSize = 4096;

// The low 32 bits of an inode number: node id + 1; the high ones: the generation.
constexpr unsigned kGenerationShift = 32;
constexpr fuse_ino_t kLowMask = (fuse_ino_t{1} << kGenerationShift) - 1;
// /.kerchunkfs and its stats file: inodes of a generation number no reference set ever gets. Each
// lookup of the stats file gives it a new inode number (and entry_timeout 0 makes every open
// look it up), so no page cache ever holds old numbers, even where files open without asking.
constexpr fuse_ino_t kStatsDirectoryIno = (kLowMask << kGenerationShift) | 1;
constexpr fuse_ino_t kStatsFileIno = (kLowMask << kGenerationShift) | 2;
bool is_stats_file(fuse_ino_t ino) { return (ino >> kGenerationShift) == kLowMask && (ino & kLowMask) >= 2; }
constexpr const char* kStatsDirectoryName = ".kerchunkfs";
// The stats file shows this size whatever its text (padded with a comment): a size that changed
// between stat and read would cut the text short, and the kernel caches attributes.
constexpr std::size_t kStatsFileSize = 16384;

Filesystem& filesystem_of(fuse_req_t req) { return *static_cast<Filesystem*>(fuse_req_userdata(req)); }

// No C++ exception may unwind into libfuse: a failure inside an operation answers that request.
template <class Body>
void guarded(fuse_req_t req, Body body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    fuse_reply_err(req, ENOMEM);
  } catch (...) {
    fuse_reply_err(req, EIO);
  }
}

std::vector<std::string> url_table(const refstore::RefStore& store) {
  std::vector<std::string> urls;
  urls.reserve(store.url_count());
  for (std::uint32_t i = 0; i < store.url_count(); ++i) urls.push_back(store.url(i));
  return urls;
}

}  // namespace

struct Filesystem::Generation {
  Generation(std::uint32_t number, refstore::RefStore loaded, const fetch::SourceRegistry& sources,
             const FilesystemOptions& options, const struct timespec& modified)
      : number(number),
        store(std::move(loaded)),
        fetcher(url_table(store), sources, options.fetch),
        prefetcher(store, options.prefetch_bytes),
        mtime(modified) {
    for (NodeId node = 0; node < store.node_count(); ++node) {
      if (store.is_replaced(node)) continue;
      const refstore::Entry entry = store.entry(node);
      if (entry.kind == EntryKind::Inline || entry.kind == EntryKind::Range) total_bytes += entry.length;
      if (entry.kind != EntryKind::Directory) ++references;
    }
  }
  fuse_ino_t ino(NodeId node) const {
    return node == refstore::kRootNode ? FUSE_ROOT_ID : (fuse_ino_t{number} << kGenerationShift) | (fuse_ino_t{node} + 1);
  }
  fuse_ino_t consolidated_ino() const {
    return (fuse_ino_t{number} << kGenerationShift) | (fuse_ino_t{store.node_count()} + 1);
  }

  const std::uint32_t number;
  const refstore::RefStore store;
  fetch::Fetcher fetcher;
  Prefetcher prefetcher;
  const struct timespec mtime;
  std::uint64_t total_bytes = 0;
  std::uint64_t references = 0;  // keys, not directories
  std::once_flag consolidated_once;
  std::string consolidated;  // the synthesized /.zmetadata, made on first use
  std::atomic<std::uint64_t> lookups{0};  // inode numbers of this generation the kernel holds
};

Filesystem::Filesystem(refstore::RefStore store, const fetch::SourceRegistry& sources, const Logger& log,
                       FilesystemOptions options)
    : sources_(sources), log_(log), options_(options) {
  auto first = make_generation(std::move(store), options.mtime);
  current_ = first->number;
  generations_.emplace(current_, std::move(first));
}

Filesystem::~Filesystem() = default;

Filesystem::GenerationPtr Filesystem::make_generation(refstore::RefStore store, const struct timespec& mtime) {
  std::uint32_t number = 0;
  {
    const std::lock_guard lock(generations_mutex_);
    number = generations_.empty() ? 0 : generations_.rbegin()->first + 1;
  }
  return std::make_shared<Generation>(number, std::move(store), sources_, options_, mtime);
}

Filesystem::GenerationPtr Filesystem::current() const {
  const std::lock_guard lock(generations_mutex_);
  return generations_.at(current_);
}

std::size_t Filesystem::generation_count() const {
  const std::lock_guard lock(generations_mutex_);
  return generations_.size();
}

std::optional<Filesystem::Node> Filesystem::resolve(fuse_ino_t ino) const {
  if (ino == FUSE_ROOT_ID) return Node{current(), refstore::kRootNode, false};
  GenerationPtr generation;
  {
    const std::lock_guard lock(generations_mutex_);
    const auto found = generations_.find(static_cast<std::uint32_t>(ino >> kGenerationShift));
    if (found == generations_.end()) return std::nullopt;
    generation = found->second;
  }
  const fuse_ino_t low = ino & kLowMask;
  const std::uint64_t count = generation->store.node_count();
  if (low == count + 1 && consolidated(*generation) != nullptr) return Node{generation, 0, true};
  if (low == 0 || low > count) return std::nullopt;
  return Node{generation, static_cast<NodeId>(low - 1), false};
}

void Filesystem::remember(Generation& generation) const { generation.lookups += 1; }

void Filesystem::forget(fuse_ino_t ino, std::uint64_t count) {
  if (ino == FUSE_ROOT_ID) return;
  const std::lock_guard lock(generations_mutex_);
  const auto found = generations_.find(static_cast<std::uint32_t>(ino >> kGenerationShift));
  if (found == generations_.end()) return;
  if ((found->second->lookups -= count) == 0 && found->first != current_) generations_.erase(found);
}

void Filesystem::replace(refstore::RefStore store, const struct timespec& mtime, fuse_session* session) {
  auto fresh = make_generation(std::move(store), mtime);
  reads_.reloads += 1;
  GenerationPtr old;
  {
    const std::lock_guard lock(generations_mutex_);
    old = generations_.at(current_);
    current_ = fresh->number;
    generations_.emplace(current_, fresh);
    if (old->lookups == 0) generations_.erase(old->number);
  }
  if (session == nullptr) return;
  // The root's attributes and listing, its entries old and new (a name the kernel knows to be
  // absent may exist now), and the synthesized metadata: everything below hangs off these.
  fuse_lowlevel_notify_inval_inode(session, FUSE_ROOT_ID, 0, 0);
  for (const GenerationPtr& generation : {old, fresh}) {
    for (const NodeId child : generation->store.children(refstore::kRootNode)) {
      const std::string_view name = generation->store.name(child);
      fuse_lowlevel_notify_inval_entry(session, FUSE_ROOT_ID, name.data(), name.size());
    }
  }
  fuse_lowlevel_notify_inval_entry(session, FUSE_ROOT_ID, kConsolidatedName, std::strlen(kConsolidatedName));
}

template <class Then>
void Filesystem::with_size(const GenerationPtr& generation, NodeId node, Then then) {
  const refstore::Entry entry = generation->store.entry(node);
  if (entry.kind != EntryKind::WholeFile) {
    then(0, entry.length);
    return;
  }
  generation->fetcher.size(entry.url, [this, generation, node, then](fetch::SizeResult result) {
    if (result.error != 0) {
      log_.error(generation->store.key(node) + ": " + result.message);
      then(EIO, 0);
      return;
    }
    then(0, result.size);
  });
}

void Filesystem::prefetch_after(Generation& generation, NodeId node, const fetch::Extent& extent) {
  if (!generation.fetcher.cached(extent.url)) return;
  const auto ahead = generation.prefetcher.plan(node);
  if (ahead.empty()) return;
  std::vector<fetch::Extent> batch;
  batch.reserve(ahead.size());
  for (const NodeId next : ahead) {
    const refstore::Entry entry = generation.store.entry(next);
    if (entry.kind == EntryKind::Range) batch.push_back(fetch::Extent{entry.url, entry.offset, entry.length});
  }
  generation.fetcher.prefetch(batch);
}

const std::string* Filesystem::consolidated(Generation& generation) const {
  if (!options_.consolidated) return nullptr;
  std::call_once(generation.consolidated_once,
                 [&generation] { generation.consolidated = consolidated_metadata(generation.store); });
  return generation.consolidated.empty() ? nullptr : &generation.consolidated;
}

struct stat Filesystem::attributes(const Node& node, std::uint64_t size) const {
  const Generation& generation = *node.generation;
  struct stat st {};
  if (node.consolidated) {
    st.st_ino = generation.consolidated_ino();
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
  } else if (generation.store.is_directory(node.node)) {
    st.st_ino = generation.ino(node.node);
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
  } else {
    st.st_ino = generation.ino(node.node);
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    st.st_size = static_cast<off_t>(size);
    st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
  }
  st.st_blksize = kBlockSize;
  st.st_uid = options_.uid;
  st.st_gid = options_.gid;
  st.st_atim = st.st_mtim = st.st_ctim = generation.mtime;
  return st;
}

fuse_entry_param Filesystem::entry_param(const Node& node, std::uint64_t size) const {
  fuse_entry_param e{};
  e.attr = attributes(node, size);
  e.ino = e.attr.st_ino;
  e.generation = 1;
  e.attr_timeout = options_.cache_timeout;
  e.entry_timeout = options_.cache_timeout;
  return e;
}

std::string Filesystem::cache_summary() const {
  const fetch::CacheStats stats = current()->fetcher.cache_stats();
  return "cache: " + std::to_string(stats.hits) + " hits, " + std::to_string(stats.misses) + " misses, " +
         std::to_string(stats.joined) + " joined a fetch under way, " + std::to_string(stats.evictions) +
         " evictions, " + std::to_string(stats.bytes) + " bytes held";
}

std::string Filesystem::stats_text() const {
  const GenerationPtr generation = current();
  StatsInput input;
  input.reads = &reads_;
  if (const auto* web = dynamic_cast<const fetch::HttpSource*>(sources_.find("http://"))) input.http = &web->counters();
  input.cache = generation->fetcher.cache_stats();
  input.cache_capacity = options_.fetch.cache_size;
  input.references = generation->references;
  input.generations = generation_count();
  std::string text = render_stats(input);
  if (text.size() + 2 < kStatsFileSize) {
    text += "#" + std::string(kStatsFileSize - text.size() - 2, ' ') + "\n";
  }
  text.resize(kStatsFileSize, '\n');
  return text;
}

bool Filesystem::stats_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (!options_.stats) return false;
  fuse_entry_param e{};
  if (parent == FUSE_ROOT_ID && std::strcmp(name, kStatsDirectoryName) == 0 &&
      !current()->store.lookup(refstore::kRootNode, name)) {
    e.ino = kStatsDirectoryIno;
    e.attr = attributes(Node{current(), refstore::kRootNode, false}, 0);
    e.attr.st_ino = kStatsDirectoryIno;
    e.attr_timeout = e.entry_timeout = options_.cache_timeout;
  } else if (parent == kStatsDirectoryIno) {
    if (std::strcmp(name, "stats") == 0) {
      e.ino = kStatsFileIno + (stats_lookups_.fetch_add(1) % (kLowMask - 2));
      e.attr = attributes(Node{current(), 0, true}, kStatsFileSize);
      e.attr.st_ino = e.ino;
      e.attr.st_mode = S_IFREG | 0444;
      e.attr.st_mtim = e.attr.st_ctim = e.attr.st_atim = timespec{std::time(nullptr), 0};
    }
  } else {
    return false;
  }
  fuse_reply_entry(req, &e);
  return true;
}

// operation: 'a' getattr, 'o' open, 'd' opendir, 'r' read, 'l' readdir.
bool Filesystem::stats_request(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, char operation, bool plus) {
  if (ino != kStatsDirectoryIno && !is_stats_file(ino)) return false;
  if (!options_.stats) return void(fuse_reply_err(req, ENOENT)), true;
  const bool directory = ino == kStatsDirectoryIno;
  struct stat st = attributes(Node{current(), directory ? refstore::kRootNode : 0, !directory}, directory ? 0 : kStatsFileSize);
  st.st_ino = ino;
  if (!directory) st.st_mtim = st.st_ctim = st.st_atim = timespec{std::time(nullptr), 0};
  switch (operation) {
    case 'a':
      fuse_reply_attr(req, &st, directory ? options_.cache_timeout : 0);
      break;
    case 'o':
      if (directory) return void(fuse_reply_err(req, EISDIR)), true;
      if (skip_open_) return void(fuse_reply_err(req, ENOSYS)), true;
      {
        fuse_file_info fi{};
        fi.direct_io = 1;  // every read asks again: the numbers move
        fuse_reply_open(req, &fi);
      }
      break;
    case 'd':
      if (!directory) return void(fuse_reply_err(req, ENOTDIR)), true;
      {
        fuse_file_info fi{};
        fuse_reply_open(req, &fi);
      }
      break;
    case 'r': {
      if (directory) return void(fuse_reply_err(req, EISDIR)), true;
      const std::string text = stats_text();
      const auto from = std::min<std::size_t>(static_cast<std::size_t>(offset), text.size());
      fuse_reply_buf(req, text.data() + from, std::min(size, text.size() - from));
      break;
    }
    case 'l': {
      if (!directory) return void(fuse_reply_err(req, ENOTDIR)), true;
      std::string buffer(size, '\0');
      std::size_t used = 0;
      const char* names[] = {".", "..", "stats"};
      for (auto index = static_cast<std::size_t>(offset); index < 3; ++index) {
        struct stat entry = st;
        if (index == 1) entry = attributes(Node{current(), refstore::kRootNode, false}, 0);
        if (index == 2) {
          entry.st_ino = kStatsFileIno;
          entry.st_mode = S_IFREG | 0444;
          entry.st_size = kStatsFileSize;
        }
        fuse_entry_param e{};
        e.attr = entry;  // no inode number: not counted as lookups
        const std::size_t added =
            plus ? fuse_add_direntry_plus(req, buffer.data() + used, size - used, names[index], &e, static_cast<off_t>(index + 1))
                 : fuse_add_direntry(req, buffer.data() + used, size - used, names[index], &entry, static_cast<off_t>(index + 1));
        if (added > size - used) break;
        used += added;
      }
      fuse_reply_buf(req, buffer.data(), used);
      break;
    }
    default:
      fuse_reply_err(req, ENOSYS);
  }
  return true;
}

void Filesystem::init(fuse_conn_info* conn) {
  // Nothing is decided at open time, so where the kernel can open files and directories without
  // asking, every open saves a round trip and its release another; it then keeps the page cache
  // and caches directory listings.
  skip_open_ = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
  skip_opendir_ = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
  // Fewer, larger requests: libfuse derives the largest request from max_write, and the kernel
  // reads ahead up to max_readahead.
  conn->max_write = 1 << 20;
  conn->max_readahead = 1 << 20;
}

void Filesystem::lookup(fuse_req_t req, fuse_ino_t parent_ino, const char* name) {
  if (stats_lookup(req, parent_ino, name)) return;
  const auto parent = resolve(parent_ino);
  if (!parent || parent->consolidated) return void(fuse_reply_err(req, parent ? ENOTDIR : ENOENT));
  const GenerationPtr& generation = parent->generation;
  if (!generation->store.is_directory(parent->node)) return void(fuse_reply_err(req, ENOTDIR));
  const auto child = generation->store.lookup(parent->node, name);
  if (!child && parent->node == refstore::kRootNode && std::strcmp(name, kConsolidatedName) == 0) {
    if (const std::string* text = consolidated(*generation)) {
      const fuse_entry_param e = entry_param(Node{generation, 0, true}, text->size());
      remember(*generation);
      return void(fuse_reply_entry(req, &e));
    }
  }
  if (!child) {
    // A negative entry: zarr readers probe for chunks that were never written (they read as the
    // fill value), and the kernel can remember that they are absent.
    fuse_entry_param e{};
    e.entry_timeout = options_.cache_timeout;
    fuse_reply_entry(req, &e);
    return;
  }
  with_size(generation, *child, [this, req, generation, node = *child](int error, std::uint64_t size) {
    if (error != 0) return void(fuse_reply_err(req, error));
    const fuse_entry_param e = entry_param(Node{generation, node, false}, size);
    remember(*generation);
    fuse_reply_entry(req, &e);
  });
}

void Filesystem::getattr(fuse_req_t req, fuse_ino_t ino) {
  if (stats_request(req, ino, 0, 0, 'a')) return;
  const auto node = resolve(ino);
  if (!node) return void(fuse_reply_err(req, ENOENT));
  if (node->consolidated) {
    const struct stat st = attributes(*node, consolidated(*node->generation)->size());
    return void(fuse_reply_attr(req, &st, options_.cache_timeout));
  }
  with_size(node->generation, node->node, [this, req, node = *node](int error, std::uint64_t size) {
    if (error != 0) return void(fuse_reply_err(req, error));
    const struct stat st = attributes(node, size);
    fuse_reply_attr(req, &st, options_.cache_timeout);
  });
}

void Filesystem::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (stats_request(req, ino, 0, 0, 'o')) return;
  const auto node = resolve(ino);
  if (!node) return void(fuse_reply_err(req, ENOENT));
  if (!node->consolidated && node->generation->store.is_directory(node->node)) return void(fuse_reply_err(req, EISDIR));
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0) return void(fuse_reply_err(req, EROFS));
  if (skip_open_) return void(fuse_reply_err(req, ENOSYS));  // "open without asking from now on"
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

void Filesystem::opendir(fuse_req_t req, fuse_ino_t ino) {
  if (stats_request(req, ino, 0, 0, 'd')) return;
  const auto node = resolve(ino);
  if (!node) return void(fuse_reply_err(req, ENOENT));
  if (node->consolidated || !node->generation->store.is_directory(node->node)) return void(fuse_reply_err(req, ENOTDIR));
  // ENOSYS: open directories without asking from now on, and cache their listings.
  if (skip_opendir_) return void(fuse_reply_err(req, ENOSYS));
  fuse_file_info fi{};
  fi.cache_readdir = 1;
  fi.keep_cache = 1;
  fuse_reply_open(req, &fi);
}

void Filesystem::read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset) {
  if (stats_request(req, ino, size, offset, 'r')) return;
  const auto resolved = resolve(ino);
  if (!resolved) return void(fuse_reply_err(req, ENOENT));
  const GenerationPtr& generation = resolved->generation;
  const auto start = static_cast<std::uint64_t>(offset);
  if (resolved->consolidated) {
    const std::string& text = *consolidated(*generation);
    const auto from = std::min<std::uint64_t>(start, text.size());
    return void(fuse_reply_buf(req, text.data() + from, std::min<std::uint64_t>(size, text.size() - from)));
  }
  const NodeId node = resolved->node;
  const refstore::Entry entry = generation->store.entry(node);
  switch (entry.kind) {
    case EntryKind::Directory:
      fuse_reply_err(req, EISDIR);
      return;
    case EntryKind::Inline: {
      if (start >= entry.data.size()) return void(fuse_reply_buf(req, nullptr, 0));
      const std::size_t n = std::min<std::uint64_t>(size, entry.data.size() - start);
      reads_.reads += 1;
      reads_.bytes += n;
      fuse_reply_buf(req, entry.data.data() + start, n);
      return;
    }
    case EntryKind::Range: {
      if (start >= entry.length) return void(fuse_reply_buf(req, nullptr, 0));
      const fetch::Extent extent{entry.url, entry.offset, entry.length};
      prefetch_after(*generation, node, extent);
      const std::size_t wanted = std::min<std::uint64_t>(size, entry.length - start);
      generation->fetcher.read(
          extent, start, wanted,
          [this, req, generation, node, wanted](std::span<const char> bytes, int error, const std::string& message) {
            if (error == 0 && bytes.size() != wanted) {
              log_.error(generation->store.key(node) + ": target ends before the referenced range: got " +
                         std::to_string(bytes.size()) + " of " + std::to_string(wanted) + " bytes");
              reads_.errors += 1;
              return void(fuse_reply_err(req, EIO));
            }
            if (error != 0) {
              log_.error(generation->store.key(node) + ": " + message);
              reads_.errors += 1;
              return void(fuse_reply_err(req, EIO));
            }
            reads_.reads += 1;
            reads_.bytes += bytes.size();
            fuse_reply_buf(req, bytes.data(), bytes.size());
          });
      return;
    }
    case EntryKind::WholeFile:
      with_size(generation, node, [this, req, generation, node, url = entry.url, start, size](int error, std::uint64_t total) {
        if (error != 0) return void(fuse_reply_err(req, error));
        generation->fetcher.read(
            fetch::Extent{url, 0, total}, start, size,
            [this, req, generation, node](std::span<const char> bytes, int read_error, const std::string& message) {
              if (read_error != 0) {
                log_.error(generation->store.key(node) + ": " + message);
                return void(fuse_reply_err(req, EIO));
              }
              fuse_reply_buf(req, bytes.data(), bytes.size());
            });
      });
      return;
  }
}

void Filesystem::readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, bool plus) {
  if (stats_request(req, ino, size, offset, 'l', plus)) return;
  const auto resolved = resolve(ino);
  if (!resolved) return void(fuse_reply_err(req, ENOENT));
  const GenerationPtr& generation = resolved->generation;
  const refstore::RefStore& store = generation->store;
  const NodeId directory = resolved->node;
  if (resolved->consolidated || !store.is_directory(directory)) return void(fuse_reply_err(req, ENOTDIR));
  const auto children = store.children(directory);
  // The root lists the synthesized /.zmetadata after its own entries.
  const std::string* extra = directory == refstore::kRootNode ? consolidated(*generation) : nullptr;
  std::string buffer(size, '\0');
  std::size_t used = 0;
  std::string name;
  // Offsets 0 and 1 are "." and ".."; offset i + 2 is child i. An entry's offset is the next one's.
  for (auto index = static_cast<std::size_t>(offset); index < children.size() + 2 + (extra ? 1 : 0); ++index) {
    Node node{generation, directory, false};
    if (index == 0) {
      name = ".";
    } else if (index == 1) {
      name = "..";
      node.node = store.parent(directory);
    } else if (index == children.size() + 2) {
      name = kConsolidatedName;
      node.consolidated = true;
    } else {
      node.node = children[index - 2];
      name.assign(store.name(node.node));
    }
    const auto next = static_cast<off_t>(index + 1);
    std::size_t added = 0;
    if (plus) {
      const refstore::Entry entry = node.consolidated ? refstore::Entry{} : store.entry(node.node);
      fuse_entry_param e{};
      if (index < 2) {
        e.attr = attributes(node, 0);  // no inode number: "." and ".." are not lookups
      } else if (node.consolidated) {
        e = entry_param(node, extra->size());
      } else if (entry.kind != EntryKind::WholeFile) {
        e = entry_param(node, entry.length);
      } else {
        // A whole file's size may need a request: an entry without an inode number makes the
        // kernel look it up when it needs the attributes.
        e.attr = attributes(node, 0);
      }
      added = fuse_add_direntry_plus(req, buffer.data() + used, size - used, name.c_str(), &e, next);
      if (added <= size - used && e.ino != 0) remember(*generation);
    } else {
      const struct stat st = attributes(node, 0);
      added = fuse_add_direntry(req, buffer.data() + used, size - used, name.c_str(), &st, next);
    }
    if (added > size - used) break;
    used += added;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

void Filesystem::statfs(fuse_req_t req) {
  const GenerationPtr generation = current();
  struct statvfs st {};
  st.f_bsize = kBlockSize;
  st.f_frsize = kBlockSize;
  st.f_blocks = (generation->total_bytes + kBlockSize - 1) / kBlockSize;
  st.f_files = generation->store.node_count();
  st.f_namemax = 255;
  st.f_flag = ST_RDONLY;
  fuse_reply_statfs(req, &st);
}

struct Filesystem::Ops {
  static void init(void* userdata, fuse_conn_info* conn) { static_cast<Filesystem*>(userdata)->init(conn); }
  static void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    guarded(req, [&] { filesystem_of(req).opendir(req, ino); });
  }
  static void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    guarded(req, [&] { filesystem_of(req).lookup(req, parent, name); });
  }
  static void forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t count) {
    filesystem_of(req).forget(ino, count);
    fuse_reply_none(req);
  }
  static void forget_multi(fuse_req_t req, std::size_t count, fuse_forget_data* forgets) {
    for (std::size_t i = 0; i < count; ++i) filesystem_of(req).forget(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
  }
  static void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    guarded(req, [&] { filesystem_of(req).getattr(req, ino); });
  }
  static void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    guarded(req, [&] { filesystem_of(req).open(req, ino, fi); });
  }
  static void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info*) {
    guarded(req, [&] { filesystem_of(req).read(req, ino, size, offset); });
  }
  static void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info*) {
    guarded(req, [&] { filesystem_of(req).readdir(req, ino, size, offset, false); });
  }
  static void readdirplus(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info*) {
    guarded(req, [&] { filesystem_of(req).readdir(req, ino, size, offset, true); });
  }
  static void statfs(fuse_req_t req, fuse_ino_t) {
    guarded(req, [&] { filesystem_of(req).statfs(req); });
  }
};

const fuse_lowlevel_ops& Filesystem::operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.init = Ops::init;
    o.opendir = Ops::opendir;
    o.lookup = Ops::lookup;
    o.forget = Ops::forget;
    o.forget_multi = Ops::forget_multi;
    o.getattr = Ops::getattr;
    o.open = Ops::open;
    o.read = Ops::read;
    o.readdir = Ops::readdir;
    o.readdirplus = Ops::readdirplus;
    o.statfs = Ops::statfs;
    return o;
  }();
  return ops;
}

}  // namespace kerchunkfs::daemon
