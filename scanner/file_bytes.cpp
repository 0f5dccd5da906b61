#include "scanner/file_bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kerchunkfs::scanner {

LocalFileBytes::LocalFileBytes(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
}

LocalFileBytes::~LocalFileBytes() {
  if (fd_ >= 0) ::close(fd_);
}

bool LocalFileBytes::read(std::uint64_t offset, std::size_t length, char* out) {
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd_, out + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace kerchunkfs::scanner
