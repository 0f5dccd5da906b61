#include "fetch/local_source.h"

#include "common/full_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

std::shared_ptr<LocalSource::Descriptor> LocalSource::open(const std::string& path, int& error, std::string& problem) {
  {
    std::lock_guard lock(mutex_);
    const auto found = open_.find(path);
    if (found != open_.end()) {
      recency_.splice(recency_.begin(), recency_, found->second.position);
      return found->second.descriptor;
    }
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    problem = "cannot open " + path + ": " + std::strerror(error);
    return nullptr;
  }
  auto descriptor = std::make_shared<Descriptor>(fd);
  if (roots_) {
    char real[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), real, sizeof real - 1);
    const std::string real_path = n > 0 ? std::string(real, static_cast<std::size_t>(n)) : std::string();
    if (real_path.empty() || !path_under(real_path, *roots_)) {
      error = EACCES;
      problem = "refused to read " + path + (real_path.empty() || real_path == path ? "" : " (" + real_path + ")") +
                ": local files are read only under the directories allowed (-o allow_local=DIR)";
      return nullptr;
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

void LocalSource::read(const std::string& url, std::uint64_t offset, std::size_t length,
                       std::function<void(ReadResult)> done) {
  ReadResult result;
  const std::string path = path_of(url);
  int error = 0;
  const auto descriptor = open(path, error, result.message);
  if (!descriptor) {
    result.error = error;
    done(std::move(result));
    return;
  }
  result.bytes.resize(length);
  const ssize_t got = common::pread_full(descriptor->fd(), result.bytes.data(), length, offset);
  if (got < 0) {
    result.error = errno;
    result.message = "cannot read " + path + " at offset " + std::to_string(offset) + ": " + std::strerror(errno);
    result.bytes.clear();
    done(std::move(result));
    return;
  }
  result.bytes.resize(static_cast<std::size_t>(got));
  done(std::move(result));
}

void LocalSource::size(const std::string& url, std::function<void(SizeResult)> done) {
  SizeResult result;
  const std::string path = path_of(url);
  struct stat st {};
  int error = 0;
  const auto descriptor = open(path, error, result.message);
  if (!descriptor) {
    result.error = error;
  } else if (::fstat(descriptor->fd(), &st) != 0) {
    result.error = errno;
    result.message = "cannot stat " + path + ": " + std::strerror(errno);
  } else {
    result.size = static_cast<std::uint64_t>(st.st_size);
  }
  done(std::move(result));
}

}  // namespace kerchunkfs::fetch
