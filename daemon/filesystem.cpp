#include "daemon/filesystem.h"

#include <fcntl.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/consolidated.h"

namespace kerchunkfs::daemon {
namespace {

using refstore::EntryKind;
using refstore::NodeId;

constexpr std::uint64_t kBlockSize = 4096;

NodeId node_of(fuse_ino_t ino) { return static_cast<NodeId>(ino - 1); }
fuse_ino_t ino_of(NodeId node) { return static_cast<fuse_ino_t>(node) + 1; }

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

std::optional<std::string> find_unsupported_url(const refstore::RefStore& store, const fetch::SourceRegistry& sources) {
  std::vector<bool> unsupported(store.url_count());
  bool any = false;
  for (std::uint32_t i = 0; i < store.url_count(); ++i) {
    unsupported[i] = sources.find(store.url(i)) == nullptr;
    any = any || unsupported[i];
  }
  if (!any) return std::nullopt;
  for (NodeId node = 0; node < store.node_count(); ++node) {
    const refstore::Entry entry = store.entry(node);
    if ((entry.kind == EntryKind::Range || entry.kind == EntryKind::WholeFile) && unsupported[entry.url]) {
      return "key \"" + store.key(node) + "\": URL " + store.url(entry.url) + ": scheme \"" +
             std::string(fetch::url_scheme(store.url(entry.url))) + "\" is not supported (supported: " +
             sources.schemes() + ")";
    }
  }
  return "a URL has an unsupported scheme";  // only URLs no key uses; unreachable in practice
}

Filesystem::Filesystem(refstore::RefStore store, const fetch::SourceRegistry& sources, const Logger& log,
                       FilesystemOptions options)
    : store_(std::move(store)),
      log_(log),
      options_(options),
      fetcher_(url_table(store_), sources, options.fetch),
      prefetcher_(store_, options.prefetch_bytes) {
  for (NodeId node = 0; node < store_.node_count(); ++node) {
    const refstore::Entry entry = store_.entry(node);
    if (entry.kind == EntryKind::Inline || entry.kind == EntryKind::Range) total_bytes_ += entry.length;
  }
}

template <class Then>
void Filesystem::with_size(NodeId node, Then then) {
  const refstore::Entry entry = store_.entry(node);
  if (entry.kind != EntryKind::WholeFile) {
    then(0, entry.length);
    return;
  }
  fetcher_.size(entry.url, [this, node, then](fetch::SizeResult result) {
    if (result.error != 0) {
      log_.error(store_.key(node) + ": " + result.message);
      then(EIO, 0);
      return;
    }
    then(0, result.size);
  });
}

void Filesystem::prefetch_after(NodeId node, const fetch::Extent& extent) {
  if (!fetcher_.cached(extent.url)) return;
  const auto ahead = prefetcher_.plan(node);
  if (ahead.empty()) return;
  std::vector<fetch::Extent> batch;
  batch.reserve(ahead.size());
  for (const NodeId next : ahead) {
    const refstore::Entry entry = store_.entry(next);
    if (entry.kind == EntryKind::Range) batch.push_back(fetch::Extent{entry.url, entry.offset, entry.length});
  }
  fetcher_.prefetch(batch);
}

struct stat Filesystem::attributes(NodeId node, std::uint64_t size) const {
  struct stat st {};
  st.st_ino = ino_of(node);
  if (store_.is_directory(node)) {
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
  } else {
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
    st.st_size = static_cast<off_t>(size);
    st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
  }
  st.st_blksize = kBlockSize;
  st.st_uid = options_.uid;
  st.st_gid = options_.gid;
  st.st_atim = st.st_mtim = st.st_ctim = options_.mtime;
  return st;
}

fuse_entry_param Filesystem::entry_param(NodeId node, std::uint64_t size) const {
  fuse_entry_param e{};
  e.ino = ino_of(node);
  e.generation = 1;
  e.attr = attributes(node, size);
  e.attr_timeout = options_.cache_timeout;
  e.entry_timeout = options_.cache_timeout;
  return e;
}

std::string Filesystem::cache_summary() const {
  const fetch::CacheStats stats = fetcher_.cache_stats();
  return "cache: " + std::to_string(stats.hits) + " hits, " + std::to_string(stats.misses) + " misses, " +
         std::to_string(stats.joined) + " joined a fetch under way, " + std::to_string(stats.evictions) +
         " evictions, " + std::to_string(stats.bytes) + " bytes held";
}

const std::string* Filesystem::consolidated() {
  if (!options_.consolidated) return nullptr;
  std::call_once(consolidated_once_, [this] { consolidated_ = consolidated_metadata(store_); });
  return consolidated_.empty() ? nullptr : &consolidated_;
}

struct stat Filesystem::consolidated_attributes(std::size_t size) const {
  struct stat st = attributes(refstore::kRootNode, 0);
  st.st_ino = consolidated_ino();
  st.st_mode = S_IFREG | 0444;
  st.st_nlink = 1;
  st.st_size = static_cast<off_t>(size);
  st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
  return st;
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

void Filesystem::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  if (!valid(parent)) return void(fuse_reply_err(req, ENOENT));
  if (!store_.is_directory(node_of(parent))) return void(fuse_reply_err(req, ENOTDIR));
  const auto child = store_.lookup(node_of(parent), name);
  if (!child && parent == ino_of(refstore::kRootNode) && std::strcmp(name, kConsolidatedName) == 0) {
    if (const std::string* text = consolidated()) {
      fuse_entry_param e{};
      e.ino = consolidated_ino();
      e.generation = 1;
      e.attr = consolidated_attributes(text->size());
      e.attr_timeout = e.entry_timeout = options_.cache_timeout;
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
  with_size(*child, [this, req, node = *child](int error, std::uint64_t size) {
    if (error != 0) return void(fuse_reply_err(req, error));
    const fuse_entry_param e = entry_param(node, size);
    fuse_reply_entry(req, &e);
  });
}

void Filesystem::getattr(fuse_req_t req, fuse_ino_t ino) {
  if (ino == consolidated_ino() && consolidated() != nullptr) {
    const struct stat st = consolidated_attributes(consolidated()->size());
    return void(fuse_reply_attr(req, &st, options_.cache_timeout));
  }
  if (!valid(ino)) return void(fuse_reply_err(req, ENOENT));
  with_size(node_of(ino), [this, req, node = node_of(ino)](int error, std::uint64_t size) {
    if (error != 0) return void(fuse_reply_err(req, error));
    const struct stat st = attributes(node, size);
    fuse_reply_attr(req, &st, options_.cache_timeout);
  });
}

void Filesystem::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  const bool virtual_file = ino == consolidated_ino() && consolidated() != nullptr;
  if (!valid(ino) && !virtual_file) return void(fuse_reply_err(req, ENOENT));
  if (!virtual_file && store_.is_directory(node_of(ino))) return void(fuse_reply_err(req, EISDIR));
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC) != 0) return void(fuse_reply_err(req, EROFS));
  if (skip_open_) return void(fuse_reply_err(req, ENOSYS));  // "open without asking from now on"
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

void Filesystem::read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset) {
  if (ino == consolidated_ino()) {
    const std::string* text = consolidated();
    if (text == nullptr) return void(fuse_reply_err(req, ENOENT));
    const auto start = std::min<std::uint64_t>(static_cast<std::uint64_t>(offset), text->size());
    return void(fuse_reply_buf(req, text->data() + start, std::min<std::uint64_t>(size, text->size() - start)));
  }
  if (!valid(ino)) return void(fuse_reply_err(req, ENOENT));
  const NodeId node = node_of(ino);
  const refstore::Entry entry = store_.entry(node);
  const auto start = static_cast<std::uint64_t>(offset);
  switch (entry.kind) {
    case EntryKind::Directory:
      fuse_reply_err(req, EISDIR);
      return;
    case EntryKind::Inline: {
      if (start >= entry.data.size()) return void(fuse_reply_buf(req, nullptr, 0));
      const std::size_t n = std::min<std::uint64_t>(size, entry.data.size() - start);
      fuse_reply_buf(req, entry.data.data() + start, n);
      return;
    }
    case EntryKind::Range: {
      if (start >= entry.length) return void(fuse_reply_buf(req, nullptr, 0));
      const fetch::Extent extent{entry.url, entry.offset, entry.length};
      prefetch_after(node, extent);
      const std::size_t wanted = std::min<std::uint64_t>(size, entry.length - start);
      fetcher_.read(extent, start, wanted,
                    [this, req, node, wanted](std::span<const char> bytes, int error, const std::string& message) {
                      if (error == 0 && bytes.size() != wanted) {
                        log_.error(store_.key(node) + ": target ends before the referenced range: got " +
                                   std::to_string(bytes.size()) + " of " + std::to_string(wanted) + " bytes");
                        return void(fuse_reply_err(req, EIO));
                      }
                      if (error != 0) {
                        log_.error(store_.key(node) + ": " + message);
                        return void(fuse_reply_err(req, EIO));
                      }
                      fuse_reply_buf(req, bytes.data(), bytes.size());
                    });
      return;
    }
    case EntryKind::WholeFile:
      with_size(node, [this, req, node, url = entry.url, start, size](int error, std::uint64_t total) {
        if (error != 0) return void(fuse_reply_err(req, error));
        fetcher_.read(fetch::Extent{url, 0, total}, start, size,
                      [this, req, node](std::span<const char> bytes, int read_error, const std::string& message) {
                        if (read_error != 0) {
                          log_.error(store_.key(node) + ": " + message);
                          return void(fuse_reply_err(req, EIO));
                        }
                        fuse_reply_buf(req, bytes.data(), bytes.size());
                      });
      });
      return;
  }
}

void Filesystem::readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, bool plus) {
  if (!valid(ino)) return void(fuse_reply_err(req, ENOENT));
  const NodeId directory = node_of(ino);
  if (!store_.is_directory(directory)) return void(fuse_reply_err(req, ENOTDIR));
  const auto children = store_.children(directory);
  // The root lists the synthesized /.zmetadata after its own entries.
  const std::string* extra = directory == refstore::kRootNode ? consolidated() : nullptr;
  std::string buffer(size, '\0');
  std::size_t used = 0;
  std::string name;
  // Offsets 0 and 1 are "." and ".."; offset i + 2 is child i. An entry's offset is the next one's.
  for (auto index = static_cast<std::size_t>(offset); index < children.size() + 2 + (extra ? 1 : 0); ++index) {
    NodeId node = directory;
    const auto next = static_cast<off_t>(index + 1);
    if (index == children.size() + 2) {
      fuse_entry_param e{};
      e.ino = consolidated_ino();
      e.generation = 1;
      e.attr = consolidated_attributes(extra->size());
      e.attr_timeout = e.entry_timeout = options_.cache_timeout;
      const std::size_t added = plus ? fuse_add_direntry_plus(req, buffer.data() + used, size - used, kConsolidatedName, &e, next)
                                     : fuse_add_direntry(req, buffer.data() + used, size - used, kConsolidatedName, &e.attr, next);
      if (added <= size - used) used += added;
      break;
    }
    if (index == 0) {
      name = ".";
    } else if (index == 1) {
      name = "..";
      node = store_.parent(directory);
    } else {
      node = children[index - 2];
      name.assign(store_.name(node));
    }
    std::size_t added = 0;
    if (plus) {
      const refstore::Entry entry = store_.entry(node);
      fuse_entry_param e{};
      if (index < 2 || entry.kind != EntryKind::WholeFile) {
        e = entry_param(node, entry.length);
      } else {
        // A whole file's size may need a request: an entry without an inode number makes the
        // kernel look it up when it needs the attributes.
        e.attr = attributes(node, 0);
      }
      added = fuse_add_direntry_plus(req, buffer.data() + used, size - used, name.c_str(), &e, next);
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
  struct statvfs st {};
  st.f_bsize = kBlockSize;
  st.f_frsize = kBlockSize;
  st.f_blocks = (total_bytes_ + kBlockSize - 1) / kBlockSize;
  st.f_files = store_.node_count();
  st.f_namemax = 255;
  st.f_flag = ST_RDONLY;
  fuse_reply_statfs(req, &st);
}

struct Filesystem::Ops {
  static void init(void* userdata, fuse_conn_info* conn) { static_cast<Filesystem*>(userdata)->init(conn); }
  static void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    guarded(req, [&] {
      Filesystem& fs = filesystem_of(req);
      if (!fs.valid(ino)) return void(fuse_reply_err(req, ENOENT));
      if (!fs.store_.is_directory(node_of(ino))) return void(fuse_reply_err(req, ENOTDIR));
      // ENOSYS: open directories without asking from now on, and cache their listings.
      if (fs.skip_opendir_) return void(fuse_reply_err(req, ENOSYS));
      fuse_file_info fi{};
      fi.cache_readdir = 1;
      fi.keep_cache = 1;
      fuse_reply_open(req, &fi);
    });
  }
  static void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    guarded(req, [&] { filesystem_of(req).lookup(req, parent, name); });
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
