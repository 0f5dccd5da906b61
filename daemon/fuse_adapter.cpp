#include "daemon/fuse_adapter.h"

#include <cerrno>
#include <string>

#include "daemon/readahead.h"

namespace kerchunkfs::daemon {
namespace {

FuseAdapter& adapter_of(fuse_req_t req) { return *static_cast<FuseAdapter*>(fuse_req_userdata(req)); }

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

fuse_entry_param entry_param(const EntryReply& reply) {
  fuse_entry_param e{};
  e.ino = reply.ino;
  e.generation = 1;
  e.attr = reply.attr;
  e.attr_timeout = reply.attr_timeout;
  e.entry_timeout = reply.entry_timeout;
  return e;
}

void reply_open(fuse_req_t req, const OpenReply& open, fuse_file_info* fi) {
  fi->keep_cache = open.keep_cache ? 1 : 0;
  fi->direct_io = open.direct_io ? 1 : 0;
  fi->cache_readdir = open.cache_readdir ? 1 : 0;
  fuse_reply_open(req, fi);
}

}  // namespace

struct FuseAdapter::Ops {
  static void init(void* userdata, fuse_conn_info* conn) {
    auto& self = *static_cast<FuseAdapter*>(userdata);
    // Nothing is decided at open time, so where the kernel can open files and directories
    // without asking, every open saves a round trip and its release another; it then keeps the
    // page cache and caches directory listings.
    self.skip_open_ = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
    self.skip_opendir_ = (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) != 0;
    // Fewer, larger requests: libfuse derives the largest request from max_write.
    conn->max_write = ReadAhead::kLargestRequest;
    conn->max_readahead = ReadAhead::kKernelReadahead;
    // Local targets' bytes go from the file's pages to the kernel through a pipe, not through a
    // buffer of ours (see Content::file_slice).
    if ((conn->capable & FUSE_CAP_SPLICE_WRITE) != 0) conn->want |= FUSE_CAP_SPLICE_WRITE;
    if ((conn->capable & FUSE_CAP_SPLICE_MOVE) != 0) conn->want |= FUSE_CAP_SPLICE_MOVE;
  }

  static void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    guarded(req, [&] {
      adapter_of(req).filesystem_.lookup(parent, name, [req](common::Result<EntryReply> reply) {
        if (!reply) return void(fuse_reply_err(req, reply.error().code));
        const fuse_entry_param e = entry_param(*reply);
        fuse_reply_entry(req, &e);
      });
    });
  }

  static void forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t count) {
    adapter_of(req).filesystem_.forget(ino, count);
    fuse_reply_none(req);
  }

  static void forget_multi(fuse_req_t req, std::size_t count, fuse_forget_data* forgets) {
    for (std::size_t i = 0; i < count; ++i) adapter_of(req).filesystem_.forget(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
  }

  static void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
    guarded(req, [&] {
      adapter_of(req).filesystem_.getattr(ino, [req](common::Result<AttrReply> reply) {
        if (!reply) return void(fuse_reply_err(req, reply.error().code));
        fuse_reply_attr(req, &reply->attr, reply->timeout);
      });
    });
  }

  static void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    guarded(req, [&] {
      FuseAdapter& self = adapter_of(req);
      const auto opened = self.filesystem_.open(ino, fi->flags);
      if (!opened) return void(fuse_reply_err(req, opened.error().code));
      if (self.skip_open_) return void(fuse_reply_err(req, ENOSYS));  // "open without asking from now on"
      reply_open(req, *opened, fi);
    });
  }

  static void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    guarded(req, [&] {
      FuseAdapter& self = adapter_of(req);
      const auto opened = self.filesystem_.opendir(ino);
      if (!opened) return void(fuse_reply_err(req, opened.error().code));
      // ENOSYS: open directories without asking from now on, and cache their listings.
      if (self.skip_opendir_) return void(fuse_reply_err(req, ENOSYS));
      reply_open(req, *opened, fi);
    });
  }

  static void read(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* /*fi*/) {
    guarded(req, [&] {
      ReadCounters& counters = adapter_of(req).filesystem_.counters();
      if (const auto slice = adapter_of(req).filesystem_.file_slice(ino, static_cast<std::uint64_t>(offset), size)) {
        fuse_bufvec from{};  // one buffer: the slice
        from.count = 1;
        from.buf[0].size = slice->length;
        from.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
        from.buf[0].fd = slice->fd;
        from.buf[0].pos = static_cast<off_t>(slice->offset);
        counters.reads += 1;
        counters.bytes += slice->length;
        fuse_reply_data(req, &from, FUSE_BUF_SPLICE_MOVE);
        return;
      }
      adapter_of(req).filesystem_.read(ino, static_cast<std::uint64_t>(offset), size,
                                       [req, &counters](common::Result<std::span<const char>> bytes) {
                                         if (!bytes) {
                                           counters.errors += 1;
                                           return void(fuse_reply_err(req, bytes.error().code));
                                         }
                                         counters.reads += 1;
                                         counters.bytes += bytes->size();
                                         fuse_reply_buf(req, bytes->data(), bytes->size());
                                       });
    });
  }

  static void readdir_any(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, bool plus) {
    std::string buffer(size, '\0');
    std::size_t used = 0;
    std::string name;
    const auto status =
        adapter_of(req).filesystem_.readdir(ino, static_cast<std::uint64_t>(offset), plus, [&](const DirEntry& item) {
          name.assign(item.name);
          const auto next = static_cast<off_t>(item.next_offset);
          std::size_t added = 0;
          if (plus) {
            const fuse_entry_param e = entry_param(item.entry);
            added = fuse_add_direntry_plus(req, buffer.data() + used, size - used, name.c_str(), &e, next);
          } else {
            added = fuse_add_direntry(req, buffer.data() + used, size - used, name.c_str(), &item.entry.attr, next);
          }
          if (added > size - used) return false;
          used += added;
          return true;
        });
    if (!status) return void(fuse_reply_err(req, status.error().code));
    fuse_reply_buf(req, buffer.data(), used);
  }

  static void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* /*fi*/) {
    guarded(req, [&] { readdir_any(req, ino, size, offset, false); });
  }

  static void readdirplus(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* /*fi*/) {
    guarded(req, [&] { readdir_any(req, ino, size, offset, true); });
  }

  static void statfs(fuse_req_t req, fuse_ino_t /*ino*/) {
    guarded(req, [&] {
      const struct statvfs st = adapter_of(req).filesystem_.statfs();
      fuse_reply_statfs(req, &st);
    });
  }
};

void FuseAdapter::replace(ReferenceSet set, const struct timespec& mtime, fuse_session* session) {
  const std::vector<std::string> names = filesystem_.replace(std::move(set), mtime);
  if (session == nullptr) return;
  fuse_lowlevel_notify_inval_inode(session, FUSE_ROOT_ID, 0, 0);  // the root's attributes and listing
  for (const std::string& name : names)
    fuse_lowlevel_notify_inval_entry(session, FUSE_ROOT_ID, name.data(), name.size());
}

const fuse_lowlevel_ops& FuseAdapter::operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.init = Ops::init;
    o.lookup = Ops::lookup;
    o.forget = Ops::forget;
    o.forget_multi = Ops::forget_multi;
    o.getattr = Ops::getattr;
    o.open = Ops::open;
    o.opendir = Ops::opendir;
    o.read = Ops::read;
    o.readdir = Ops::readdir;
    o.readdirplus = Ops::readdirplus;
    o.statfs = Ops::statfs;
    return o;
  }();
  return ops;
}

}  // namespace kerchunkfs::daemon
