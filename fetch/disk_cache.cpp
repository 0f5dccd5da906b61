#include "fetch/disk_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "common/full_io.h"
#include "common/unique_fd.h"

namespace kerchunkfs::fetch {
namespace {

// A block file: this header, the URL, the version, then the block's bytes.
struct BlockHeader {
  std::array<char, 8> magic;
  std::uint64_t offset;
  std::uint64_t length;
  std::uint32_t crc;
  std::uint32_t url_length;
  std::uint32_t validator_length;
  std::uint32_t reserved;
};
static_assert(sizeof(BlockHeader) == 40);
constexpr std::array<char, 8> kBlockMagic = {'K', 'F', 'S', 'D', 'C', 'B', '1', '\n'};
constexpr std::string_view kRecordMagic = "kerchunkfs-object ";
constexpr std::string_view kRecordName = "object";
constexpr std::string_view kTemporaryPrefix = ".tmp-";
// Temporary files older than this are a crashed writer's, and go at the next scan.
constexpr std::chrono::hours kAbandoned{1};

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

common::Error system_error(const std::string& what) {
  const int code = errno;
  return common::Error{what + ": " + std::strerror(code), code};
}

std::string hex(std::uint64_t value, int digits) {
  char text[17];
  std::snprintf(text, sizeof text, "%0*llx", digits, static_cast<unsigned long long>(value));
  return text;
}

std::string block_name(std::uint64_t offset, std::uint64_t length) { return hex(offset, 1) + "-" + hex(length, 1); }

std::uint32_t crc_of(std::string_view bytes) { return libdeflate_crc32(0, bytes.data(), bytes.size()); }

bool make_directory(const std::string& path) { return ::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST; }

// The names in a directory, without "." and "..".
std::vector<std::string> entries_of(const std::string& path) {
  std::vector<std::string> names;
  DIR* directory = ::opendir(path.c_str());
  if (directory == nullptr) return names;
  while (const dirent* entry = ::readdir(directory)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(directory);
  return names;
}

// The directory's lock: the flock keeps other daemons out, the mutex this process's other worker
// (an flock is held by an open file description, not by a thread).
class DirectoryLock {
 public:
  DirectoryLock(std::mutex& mutex, int fd) : in_process_(mutex), fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock() { ::flock(fd_, LOCK_UN); }

 private:
  std::lock_guard<std::mutex> in_process_;
  int fd_;
};

}  // namespace

common::Result<std::unique_ptr<DiskCache>> DiskCache::open(DiskCacheOptions options) {
  const std::string& directory = options.directory;
  struct stat status {};
  if (::stat(directory.c_str(), &status) != 0) return system_error("disk cache " + directory);
  if (!S_ISDIR(status.st_mode)) return common::Error{"disk cache " + directory + ": not a directory", ENOTDIR};
  const std::string root = directory + "/kerchunkfs-v1";
  if (!make_directory(root) || !make_directory(root + "/objects")) {
    return system_error("disk cache " + root);
  }
  const int lock_fd = ::open((root + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return system_error("disk cache " + root + "/lock");
  const common::UniqueFd usage_fd(::open((root + "/usage").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!usage_fd || ::ftruncate(usage_fd.get(), 4096) != 0) {
    auto error = system_error("disk cache " + root + "/usage");
    ::close(lock_fd);
    return error;
  }
  void* mapped = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, usage_fd.get(), 0);
  if (mapped == MAP_FAILED) {
    auto error = system_error("disk cache " + root + "/usage");
    ::close(lock_fd);
    return error;
  }
  std::unique_ptr<DiskCache> cache(new DiskCache(std::move(options), lock_fd, static_cast<std::uint64_t*>(mapped)));
  {
    // Counts what is there and brings it under this daemon's limit. With no block being written,
    // nothing is reserved either (a daemon may have died between reserving and writing).
    const DirectoryLock lock(cache->lock_mutex_, lock_fd);
    if (!cache->make_room(0)) cache->shared(kReserved).store(0);
  }
  return cache;
}

DiskCache::DiskCache(DiskCacheOptions options, int lock_fd, std::uint64_t* counts)
    : options_(std::move(options)), root_(options_.directory + "/kerchunkfs-v1"), lock_fd_(lock_fd), counts_(counts) {}

std::atomic_ref<std::uint64_t> DiskCache::shared(int which) const {
  return std::atomic_ref<std::uint64_t>(counts_[which]);
}

void DiskCache::subtract(int which, std::uint64_t bytes) {
  auto count = shared(which);
  count.store(count.load() - std::min(count.load(), bytes));  // under the directory's lock
}

DiskCache::~DiskCache() {
  {
    const std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  ::munmap(counts_, 4096);
  ::close(lock_fd_);
}

std::string DiskCache::object_directory(const std::string& url) const {
  const std::string name = hex(fnv1a(url), 16);
  return root_ + "/objects/" + name.substr(0, 2) + "/" + name.substr(2);
}

std::optional<DiskCache::Record> DiskCache::record(const std::string& url) {
  const std::string path = object_directory(url) + "/" + std::string(kRecordName);
  const common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat status {};
  if (!fd || ::fstat(fd.get(), &status) != 0 || status.st_size > 65536) return std::nullopt;
  std::string text(static_cast<std::size_t>(status.st_size), '\0');
  if (!common::read_full(fd.get(), text.data(), text.size()) || !text.starts_with(kRecordMagic)) return std::nullopt;
  unsigned long long url_length = 0;
  unsigned long long validator_length = 0;
  int header = 0;
  if (std::sscanf(text.c_str() + kRecordMagic.size(), "%llu %llu\n%n", &url_length, &validator_length, &header) != 2 ||
      header == 0) {
    return std::nullopt;
  }
  const std::size_t start = kRecordMagic.size() + static_cast<std::size_t>(header);
  if (start + url_length + validator_length != text.size() || text.compare(start, url_length, url) != 0) {
    return std::nullopt;  // damaged, or another URL with the same hash: not this object's
  }
  Record found{text.substr(start + url_length), false};
  const auto confirmed = std::chrono::system_clock::time_point(std::chrono::seconds(status.st_mtim.tv_sec) +
                                                               std::chrono::nanoseconds(status.st_mtim.tv_nsec));
  found.trusted = options_.trust.count() > 0 && std::chrono::system_clock::now() - confirmed < options_.trust;
  return found;
}

void DiskCache::confirm(const std::string& url) {
  const std::string path = object_directory(url) + "/" + std::string(kRecordName);
  const std::array<timespec, 2> times = {timespec{0, UTIME_OMIT}, timespec{0, UTIME_NOW}};
  static_cast<void>(::utimensat(AT_FDCWD, path.c_str(), times.data(), 0));
  counters_.confirmed.fetch_add(1, std::memory_order_relaxed);
}

void DiskCache::forget(const std::string& url) {
  const std::string directory = object_directory(url);
  const DirectoryLock lock(lock_mutex_, lock_fd_);
  std::uint64_t removed = 0;
  for (const std::string& name : entries_of(directory)) {
    const std::string path = directory + "/" + name;
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0 || ::unlink(path.c_str()) != 0) continue;
    if (name != kRecordName && !name.starts_with(kTemporaryPrefix))
      removed += static_cast<std::uint64_t>(status.st_size);
  }
  subtract(kStored, removed);
  counters_.changed_objects.fetch_add(1, std::memory_order_relaxed);
}

std::optional<std::string> DiskCache::read(const std::string& url, const std::string& validator, std::uint64_t offset,
                                           std::uint64_t length) {
  const std::string path = object_directory(url) + "/" + block_name(offset, length);
  const common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  const auto miss = [this]() -> std::optional<std::string> {
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  };
  if (!fd) return miss();
  const auto corrupt = [&](const char* why) -> std::optional<std::string> {
    ::unlink(path.c_str());
    counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
    if (options_.log) options_.log("disk cache " + path + ": " + why + "; removed, fetched again");
    return miss();
  };
  BlockHeader header{};
  struct stat status {};
  if (!common::read_full(fd.get(), &header, sizeof header) || ::fstat(fd.get(), &status) != 0) {
    return corrupt("shorter than its header");
  }
  if (header.magic != kBlockMagic || header.offset != offset || header.length != length) {
    return corrupt("not the block its name says");
  }
  std::string names(std::size_t{header.url_length} + header.validator_length, '\0');
  if (static_cast<std::uint64_t>(status.st_size) != sizeof header + names.size() + length ||
      !common::read_full(fd.get(), names.data(), names.size())) {
    return corrupt("of the wrong size");
  }
  if (std::string_view(names).substr(0, header.url_length) != url) return miss();  // a hash collision
  if (std::string_view(names).substr(header.url_length) != validator) {
    ::unlink(path.c_str());  // a version no longer the object's
    return miss();
  }
  std::string bytes(length, '\0');
  if (common::pread_full(fd.get(), bytes.data(), bytes.size(), sizeof header + names.size()) !=
      static_cast<ssize_t>(length)) {
    return corrupt("cannot be read whole");
  }
  if (crc_of(bytes) != header.crc) return corrupt("bytes do not match their checksum");
  // The modification time orders eviction: this block was used now.
  const std::array<timespec, 2> times = {timespec{0, UTIME_OMIT}, timespec{0, UTIME_NOW}};
  static_cast<void>(::futimens(fd.get(), times.data()));
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  counters_.bytes_read.fetch_add(length, std::memory_order_relaxed);
  return bytes;
}

void DiskCache::write(const std::string& url, const std::string& validator, std::uint64_t offset, Bytes bytes) {
  std::call_once(started_, [this] {
    for (int i = 0; i < 2; ++i) workers_.emplace_back([this] { work(); });
  });
  {
    const std::lock_guard lock(queue_mutex_);
    if (queued_bytes_ + bytes.size() > options_.write_queue_bytes) {
      counters_.writes_skipped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queued_bytes_ += bytes.size();
    writes_.push_back(PendingWrite{url, validator, offset, std::move(bytes)});
  }
  queue_ready_.notify_one();
}

void DiskCache::run(std::function<void()> task) {
  std::call_once(started_, [this] {
    for (int i = 0; i < 2; ++i) workers_.emplace_back([this] { work(); });
  });
  {
    const std::lock_guard lock(queue_mutex_);
    tasks_.push_back(std::move(task));
  }
  queue_ready_.notify_one();
}

void DiskCache::work() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_ready_.wait(lock, [this] { return stopping_ || !tasks_.empty() || !writes_.empty(); });
    // Reads first: a reader waits on them, on writes no one does.
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    } else if (!writes_.empty()) {
      PendingWrite pending = std::move(writes_.front());
      writes_.pop_front();
      lock.unlock();
      write_now(pending.url, pending.validator, pending.offset, pending.bytes);
      lock.lock();
      queued_bytes_ -= pending.bytes.size();
    } else {
      return;  // stopping, with nothing left
    }
  }
}

bool DiskCache::write_record(const std::string& directory, const std::string& url, const std::string& validator) {
  const std::string path = directory + "/" + std::string(kRecordName);
  // A name of its own: two workers may record a new object at once (each then renames its own
  // file over the record; both say the same).
  const std::string temporary = directory + "/" + std::string(kTemporaryPrefix) + "object-" +
                                std::to_string(::getpid()) + "-" + std::to_string(sequence_.fetch_add(1));
  const std::string text = std::string(kRecordMagic) + std::to_string(url.size()) + " " +
                           std::to_string(validator.size()) + "\n" + url + validator;
  const common::UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return false;
  if (!common::write_full(fd.get(), text.data(), text.size()) || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

void DiskCache::write_now(const std::string& url, const std::string& validator, std::uint64_t offset,
                          const Bytes& bytes) {
  const std::string directory = object_directory(url);
  const std::string path = directory + "/" + block_name(offset, bytes.size());
  const std::uint64_t file_size = sizeof(BlockHeader) + url.size() + validator.size() + bytes.size();
  if (file_size > options_.size_limit) return;
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0) return;  // another daemon wrote it
  const auto fail = [&](const std::string& what) {
    const int code = errno;
    counters_.write_failures.fetch_add(1, std::memory_order_relaxed);
    report(std::strerror(code), "disk cache " + options_.directory + ": cannot " + what + " (" + std::strerror(code) +
                                    "): blocks stay in memory only while this lasts");
  };
  // The record names the version the blocks are of; a block of another version is never read.
  const auto recorded = record(url);
  if (!recorded || recorded->validator != validator) {
    if (!make_directory(directory.substr(0, directory.rfind('/'))) || !make_directory(directory)) {
      return fail("make " + directory);
    }
    if (!write_record(directory, url, validator)) return fail("write the record of " + directory);
  }

  {
    // Room for it is made and reserved before it is written, so that what is on disk (stored and
    // being written, every daemon's) stays within the limit.
    const DirectoryLock lock(lock_mutex_, lock_fd_);
    if (shared(kStored).load() + shared(kReserved).load() + file_size > options_.size_limit) make_room(file_size);
    shared(kReserved).fetch_add(file_size);
  }
  const auto settle = [&](bool stored) {
    const DirectoryLock lock(lock_mutex_, lock_fd_);
    subtract(kReserved, file_size);
    if (stored) shared(kStored).fetch_add(file_size);
  };
  const BlockHeader header{kBlockMagic,
                           offset,
                           bytes.size(),
                           crc_of(bytes.view),
                           static_cast<std::uint32_t>(url.size()),
                           static_cast<std::uint32_t>(validator.size()),
                           0};
  const std::string temporary = directory + "/" + std::string(kTemporaryPrefix) + std::to_string(::getpid()) + "-" +
                                std::to_string(sequence_.fetch_add(1));
  const common::UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    settle(false);
    return fail("write a block");
  }
  const std::array<iovec, 4> parts = {iovec{const_cast<BlockHeader*>(&header), sizeof header},
                                      iovec{const_cast<char*>(url.data()), url.size()},
                                      iovec{const_cast<char*>(validator.data()), validator.size()},
                                      iovec{const_cast<char*>(bytes.view.data()), bytes.size()}};
  const ssize_t written = ::writev(fd.get(), parts.data(), static_cast<int>(parts.size()));
  // A short write to a regular file is a full disk: the next write would say so.
  if (written >= 0 && written != static_cast<ssize_t>(file_size)) errno = ENOSPC;
  if (written != static_cast<ssize_t>(file_size) || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int code = errno;
    ::unlink(temporary.c_str());
    settle(false);
    errno = code;
    return fail("write a block");
  }
  settle(true);
  counters_.bytes_written.fetch_add(file_size, std::memory_order_relaxed);
}

bool DiskCache::make_room(std::uint64_t needed) {
  struct Held {
    std::int64_t seconds;
    long nanoseconds;
    std::string path;
    std::uint64_t size;
  };
  std::vector<Held> blocks;
  std::uint64_t total = 0;  // stored blocks; those being written are counted as reserved
  bool writing = false;
  const auto abandoned_before = std::chrono::system_clock::now() - kAbandoned;
  const std::string objects = root_ + "/objects";
  for (const std::string& bucket : entries_of(objects)) {
    for (const std::string& object : entries_of(objects + "/" + bucket)) {
      const std::string directory = objects + "/" + bucket + "/" + object;
      bool has_blocks = false;
      for (const std::string& name : entries_of(directory)) {
        const std::string path = directory + "/" + name;
        struct stat status {};
        if (name == kRecordName || ::stat(path.c_str(), &status) != 0) continue;
        const auto size = static_cast<std::uint64_t>(status.st_size);
        if (name.starts_with(kTemporaryPrefix)) {
          if (std::chrono::system_clock::from_time_t(status.st_mtim.tv_sec) < abandoned_before) {
            ::unlink(path.c_str());
          } else {
            writing = true;
          }
          continue;
        }
        has_blocks = true;
        total += size;
        blocks.push_back(Held{status.st_mtim.tv_sec, status.st_mtim.tv_nsec, path, size});
      }
      if (!has_blocks) {
        // An object without blocks: its directory goes (a writer that loses the race makes it again).
        ::unlink((directory + "/" + std::string(kRecordName)).c_str());
        ::rmdir(directory.c_str());
      }
    }
  }
  // Down to a little under the limit, so that the next writes do not each scan again.
  const std::uint64_t limit = options_.size_limit;
  const std::uint64_t wanted = shared(kReserved).load() + needed;
  const std::uint64_t target = limit - std::min(limit, std::max(wanted, limit / 16));
  if (total + wanted > limit) {
    std::sort(blocks.begin(), blocks.end(), [](const Held& a, const Held& b) {
      return std::tie(a.seconds, a.nanoseconds) < std::tie(b.seconds, b.nanoseconds);
    });
    for (const Held& block : blocks) {
      if (total + wanted <= target) break;
      if (::unlink(block.path.c_str()) != 0) continue;
      total -= block.size;
      counters_.evictions.fetch_add(1, std::memory_order_relaxed);
    }
  }
  shared(kStored).store(total);
  return writing;
}

void DiskCache::report(const std::string& kind, const std::string& line) {
  {
    const std::lock_guard lock(reported_mutex_);
    if (std::find(reported_.begin(), reported_.end(), kind) != reported_.end()) return;
    reported_.push_back(kind);
  }
  if (options_.log) options_.log(line);
}

DiskCacheStats DiskCache::stats() const {
  DiskCacheStats stats;
  stats.hits = counters_.hits.load();
  stats.misses = counters_.misses.load();
  stats.bytes_read = counters_.bytes_read.load();
  stats.bytes_written = counters_.bytes_written.load();
  stats.corrupt = counters_.corrupt.load();
  stats.changed_objects = counters_.changed_objects.load();
  stats.confirmed = counters_.confirmed.load();
  stats.evictions = counters_.evictions.load();
  stats.write_failures = counters_.write_failures.load();
  stats.writes_skipped = counters_.writes_skipped.load();
  stats.usage = shared(kStored).load();
  stats.size_limit = options_.size_limit;
  return stats;
}

}  // namespace kerchunkfs::fetch
