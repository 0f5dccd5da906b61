#include "sources/file_bytes.h"

#include "common/full_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kerchunkfs::sources {

LocalFileBytes::LocalFileBytes(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
}

LocalFileBytes::~LocalFileBytes() {
  if (fd_ >= 0) ::close(fd_);
}

bool LocalFileBytes::read(std::uint64_t offset, std::size_t length, char* out) {
  return common::pread_full(fd_, out, length, offset) == static_cast<ssize_t>(length);
}

}  // namespace kerchunkfs::sources
