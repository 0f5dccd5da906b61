#include "fetch/local_source.h"

#include "common/full_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "fetch/target_policy.h"

namespace kerchunkfs::fetch {
namespace {

std::string path_of(const std::string& url) {
  constexpr std::string_view kPrefix = "file://";
  return url.starts_with(kPrefix) ? url.substr(kPrefix.size()) : url;
}

}  // namespace

class LocalSource::Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

common::Result<std::shared_ptr<LocalSource::Descriptor>> LocalSource::open(const std::string& path) {
  {
    std::lock_guard lock(mutex_);
    const auto found = open_.find(path);
    if (found != open_.end()) {
      recency_.splice(recency_.begin(), recency_, found->second.position);
      return found->second.descriptor;
    }
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return common::Error{"cannot open " + path + ": " + std::strerror(errno), errno};
  auto descriptor = std::make_shared<Descriptor>(fd);
  if (roots_) {
    char real[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), real, sizeof real - 1);
    const std::string real_path = n > 0 ? std::string(real, static_cast<std::size_t>(n)) : std::string();
    if (real_path.empty() || !path_under(real_path, *roots_)) {
      return common::Error{"refused to read " + path +
                               (real_path.empty() || real_path == path ? "" : " (" + real_path + ")") +
                               ": local files are read only under the directories allowed (-o allow_local=DIR)",
                           EACCES};
    }
  }
  std::lock_guard lock(mutex_);
  const auto [it, inserted] = open_.try_emplace(path);
  if (!inserted) return it->second.descriptor;  // another thread opened it meanwhile
  recency_.push_front(path);
  it->second = Slot{descriptor, recency_.begin()};
  if (open_.size() > max_open_files_) {
    // Readers still holding the evicted descriptor keep it alive until they finish.
    open_.erase(recency_.back());
    recency_.pop_back();
  }
  return descriptor;
}

void LocalSource::read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) {
  const std::string path = path_of(url);
  const auto descriptor = open(path);
  if (!descriptor) return done(descriptor.error());
  ReadAnswer answer;
  answer.bytes.resize(length);
  const ssize_t got = common::pread_full((*descriptor)->fd(), answer.bytes.data(), length, offset);
  if (got < 0) {
    return done(common::Error{
        "cannot read " + path + " at offset " + std::to_string(offset) + ": " + std::strerror(errno), errno});
  }
  answer.bytes.resize(static_cast<std::size_t>(got));
  done(std::move(answer));
}

void LocalSource::size(const std::string& url, SizeDone done) {
  const std::string path = path_of(url);
  const auto descriptor = open(path);
  if (!descriptor) return done(descriptor.error());
  struct stat st {};
  if (::fstat((*descriptor)->fd(), &st) != 0) {
    return done(common::Error{"cannot stat " + path + ": " + std::strerror(errno), errno});
  }
  done(static_cast<std::uint64_t>(st.st_size));
}

std::optional<common::Result<FileSlice>> LocalSource::file_slice(const std::string& url, std::uint64_t offset,
                                                                 std::size_t length) {
  const std::string path = path_of(url);
  const auto descriptor = open(path);
  if (!descriptor) return common::Result<FileSlice>(descriptor.error());
  struct stat st {};
  if (::fstat((*descriptor)->fd(), &st) != 0) {
    return common::Result<FileSlice>(common::Error{"cannot stat " + path + ": " + std::strerror(errno), errno});
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::size_t available =
      offset >= size ? 0 : static_cast<std::size_t>(std::min<std::uint64_t>(length, size - offset));
  return common::Result<FileSlice>(FileSlice{*descriptor, (*descriptor)->fd(), offset, available});
}

}  // namespace kerchunkfs::fetch
