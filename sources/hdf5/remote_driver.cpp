#include "sources/hdf5/remote_driver.h"

#include <functional>

#include <cstring>
#include <limits>

namespace kerchunkfs::sources {
namespace {

// What the access property list carries to open(): the library copies it byte for byte.
struct DriverInfo {
  FileBytes* file;
};

// An open file: the library's part first, as every driver's must be.
struct OpenFile {
  H5FD_t library;
  FileBytes* file;
  haddr_t end_of_allocation;
};

OpenFile* open_file(H5FD_t* file) { return reinterpret_cast<OpenFile*>(file); }
const OpenFile* open_file(const H5FD_t* file) { return reinterpret_cast<const OpenFile*>(file); }

H5FD_t* open(const char*, unsigned flags, hid_t access, haddr_t) {
  const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(access));
  if (info == nullptr || info->file == nullptr || (flags & (H5F_ACC_RDWR | H5F_ACC_CREAT | H5F_ACC_TRUNC)) != 0) {
    return nullptr;  // remote files are read, never written
  }
  auto* file = new OpenFile{};
  file->file = info->file;
  return &file->library;
}

herr_t close(H5FD_t* file) {
  delete open_file(file);
  return 0;
}

int compare(const H5FD_t* a, const H5FD_t* b) {
  // One file's bytes are one object: the same file, opened twice, is the same object.
  const FileBytes* left = open_file(a)->file;
  const FileBytes* right = open_file(b)->file;
  return std::less<const FileBytes*>()(left, right) ? -1 : left == right ? 0 : 1;
}

// As the POSIX driver does, so that the library reads metadata and raw data alike as it would
// from a local file (the scan of a remote file equals the scan of its local copy).
herr_t query(const H5FD_t*, unsigned long* flags) {
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
           H5FD_FEAT_AGGREGATE_SMALLDATA;
  return 0;
}

haddr_t get_eoa(const H5FD_t* file, H5FD_mem_t) { return open_file(file)->end_of_allocation; }

herr_t set_eoa(H5FD_t* file, H5FD_mem_t, haddr_t address) {
  open_file(file)->end_of_allocation = address;
  return 0;
}

haddr_t get_eof(const H5FD_t* file, H5FD_mem_t) { return open_file(file)->file->size(); }

// Bytes past the end of the object read as zeros, as they do from a local file.
herr_t read(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t address, size_t size, void* buffer) {
  FileBytes& remote = *open_file(file)->file;
  const std::uint64_t end = remote.size();
  const std::size_t present =
      address >= end ? 0 : static_cast<std::size_t>(std::min<std::uint64_t>(size, end - address));
  if (present > 0 && !remote.read(address, present, static_cast<char*>(buffer))) return -1;
  std::memset(static_cast<char*>(buffer) + present, 0, size - present);
  return 0;
}

herr_t write(H5FD_t*, H5FD_mem_t, hid_t, haddr_t, size_t, const void*) { return -1; }

constexpr H5FD_class_t kDriverClass = {
    "kerchunkfs-remote",
    static_cast<haddr_t>(std::numeric_limits<std::int64_t>::max()),  // maxaddr
    H5F_CLOSE_WEAK,
    nullptr,             // terminate
    nullptr,             // sb_size
    nullptr,             // sb_encode
    nullptr,             // sb_decode
    sizeof(DriverInfo),  // fapl_size: copied byte for byte
    nullptr,             // fapl_get
    nullptr,             // fapl_copy
    nullptr,             // fapl_free
    0,                   // dxpl_size
    nullptr,             // dxpl_copy
    nullptr,             // dxpl_free
    open,
    close,
    compare,
    query,
    nullptr,  // get_type_map
    nullptr,  // alloc
    nullptr,  // free
    get_eoa,
    set_eoa,
    get_eof,
    nullptr,  // get_handle
    read,
    write,
    nullptr,  // flush
    nullptr,  // truncate
    nullptr,  // lock
    nullptr,  // unlock
    H5FD_FLMAP_DICHOTOMY,
};

}  // namespace

RemoteDriver::RemoteDriver() : id_(H5FDregister(&kDriverClass)) {}

RemoteDriver::~RemoteDriver() {
  if (id_ >= 0) H5FDunregister(id_);
}

Handle RemoteDriver::access_list(FileBytes& file) const {
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  const DriverInfo info{&file};
  if (!access.valid() || id_ < 0 || H5Pset_driver(access.get(), id_, &info) < 0) return {};
  return access;
}

}  // namespace kerchunkfs::sources
