// The anchor for the FUSE pipe: a file system of COUNT files named 0, 1, ..., whose reads are answered
// from a static buffer of zeros with no work at all. It is set up as kerchunkfs is (the same
// largest request and kernel readahead, multi-threaded loop), so reading it shows what the kernel
// and libfuse cost on this machine, and the mount's figure is compared with it in the same run.
//
// Usage: kerchunkfs-bench-null-fuse MOUNTPOINT SIZE_BYTES [COUNT]
//        (each file SIZE_BYTES long; runs in the foreground; fusermount3 -u to end)
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr fuse_ino_t kFirstFile = 2;            // file i is inode kFirstFile + i
constexpr unsigned kLargestRequest = 1u << 20;  // as daemon/readahead.h's kKernelReadahead

struct NullFs {
  std::uint64_t size = 0;
  std::uint64_t count = 1;
  std::vector<char> zeros = std::vector<char>(kLargestRequest, '\0');
};

NullFs& fs_of(fuse_req_t req) { return *static_cast<NullFs*>(fuse_req_userdata(req)); }

struct stat attributes(const NullFs& fs, fuse_ino_t ino) {
  struct stat st {};
  st.st_ino = ino;
  if (ino == FUSE_ROOT_ID) {
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
  } else {
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
    st.st_size = static_cast<off_t>(fs.size);
  }
  return st;
}

void init(void* /*userdata*/, fuse_conn_info* conn) {
  conn->max_write = kLargestRequest;
  conn->max_readahead = kLargestRequest;
}

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  char* end = nullptr;
  const std::uint64_t index = std::strtoull(name, &end, 10);
  if (parent != FUSE_ROOT_ID || *name == '\0' || *end != '\0' || index >= fs_of(req).count) {
    return void(fuse_reply_err(req, ENOENT));
  }
  fuse_entry_param e{};
  e.ino = kFirstFile + index;
  e.attr = attributes(fs_of(req), e.ino);
  e.attr_timeout = e.entry_timeout = 3600;
  fuse_reply_entry(req, &e);
}

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  const struct stat st = attributes(fs_of(req), ino);
  fuse_reply_attr(req, &st, 3600);
}

void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if (ino == FUSE_ROOT_ID) return void(fuse_reply_err(req, EISDIR));
  fi->keep_cache = 1;
  fuse_reply_open(req, fi);
}

void read(fuse_req_t req, fuse_ino_t /*ino*/, std::size_t size, off_t offset, fuse_file_info* /*fi*/) {
  const NullFs& fs = fs_of(req);
  const auto at = static_cast<std::uint64_t>(offset);
  const std::size_t length = at >= fs.size ? 0 : std::min<std::uint64_t>({size, fs.size - at, kLargestRequest});
  fuse_reply_buf(req, fs.zeros.data(), length);
}

void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t offset, fuse_file_info* /*fi*/) {
  if (ino != FUSE_ROOT_ID) return void(fuse_reply_err(req, ENOTDIR));
  std::string buffer(size, '\0');
  std::size_t used = 0;
  for (auto index = static_cast<std::uint64_t>(offset); index < fs_of(req).count; ++index) {
    const struct stat st = attributes(fs_of(req), kFirstFile + index);
    const std::string name = std::to_string(index);
    const std::size_t added =
        fuse_add_direntry(req, buffer.data() + used, size - used, name.c_str(), &st, static_cast<off_t>(index + 1));
    if (added > size - used) break;
    used += added;
  }
  fuse_reply_buf(req, buffer.data(), used);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s MOUNTPOINT SIZE_BYTES [COUNT]\n", argv[0]);
    return 2;
  }
  NullFs fs;
  fs.size = std::strtoull(argv[2], nullptr, 10);
  if (argc == 4) fs.count = std::max<std::uint64_t>(std::strtoull(argv[3], nullptr, 10), 1);
  fuse_lowlevel_ops ops{};
  ops.init = init;
  ops.lookup = lookup;
  ops.getattr = getattr;
  ops.open = open;
  ops.read = read;
  ops.readdir = readdir;
  char program[] = "kerchunkfs-bench-null-fuse";
  char* args[] = {program};
  fuse_args fuse_arguments = FUSE_ARGS_INIT(1, args);
  const std::unique_ptr<fuse_session, decltype(&fuse_session_destroy)> session(
      fuse_session_new(&fuse_arguments, &ops, sizeof ops, &fs), fuse_session_destroy);
  if (!session || fuse_session_mount(session.get(), argv[1]) != 0) {
    std::fprintf(stderr, "kerchunkfs-bench-null-fuse: cannot mount %s\n", argv[1]);
    return 1;
  }
  fuse_loop_config* config = fuse_loop_cfg_create();
  const int status = fuse_session_loop_mt(session.get(), config);
  fuse_loop_cfg_destroy(config);
  fuse_session_unmount(session.get());
  return status == 0 ? 0 : 1;
}
