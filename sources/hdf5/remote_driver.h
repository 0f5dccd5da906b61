// An HDF5 virtual file driver (read-only) whose bytes come from a FileBytes, a RemoteFile in
// practice: the HDF5 library opens a URL as if it were a local file, and every read it makes lands
// in the remote file's block cache instead of on the network.
#pragma once

#include <hdf5.h>

#include "sources/file_bytes.h"
#include "sources/hdf5/hdf5_handle.h"

namespace kerchunkfs::sources {

// The driver, registered with the library for as long as this object lives.
class RemoteDriver {
 public:
  RemoteDriver();
  ~RemoteDriver();
  RemoteDriver(const RemoteDriver&) = delete;
  RemoteDriver& operator=(const RemoteDriver&) = delete;

  // A file access property list that makes H5Fopen read `file` (which must outlive the open file).
  Handle access_list(FileBytes& file) const;

 private:
  hid_t id_;
};

}  // namespace kerchunkfs::sources
