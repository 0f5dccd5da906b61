#include "refstore/mapped_input.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "refstore/compression.h"
#include "refstore/load_error.h"

namespace kerchunkfs::refstore {
namespace {

[[noreturn]] void fail(const std::string& path, const char* what) {
  throw LoadError(path + ": cannot " + what + " the file: " + std::strerror(errno));
}

}  // namespace

MappedInput::MappedInput(const std::string& path) : path_(path) {
  common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, "open");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path, "stat");

  if (!S_ISREG(st.st_mode)) {
    std::string text;
    char buffer[1 << 16];
    ssize_t n;
    while ((n = ::read(fd.get(), buffer, sizeof buffer)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(path, "read");
      text.append(buffer, static_cast<std::size_t>(n));
    }
    streamed_ = simdjson::padded_string(text);
    decompress_if_needed(path);
    return;
  }

  size_ = static_cast<std::size_t>(st.st_size);
  page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  mapping_size_ = (size_ + simdjson::SIMDJSON_PADDING + page_ - 1) / page_ * page_;
  mapping_ = ::mmap(nullptr, mapping_size_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    fail(path, "map");
  }
  if (size_ > 0 && ::mmap(mapping_, size_, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd.get(), 0) == MAP_FAILED) {
    fail(path, "map");
  }
  decompress_if_needed(path);
  // Nothing is mapped ahead yet: most of a large set is read through pread (read()), and what is
  // read in place is mapped ahead as the parse gives pages back (release_before).
  if (mapping_ != nullptr) fd_ = std::move(fd);  // else a compressed file was expanded and unmapped
}

void MappedInput::read(std::uint64_t offset, char* into, std::size_t size) const {
  if (mapping_ == nullptr) {
    std::memcpy(into, streamed_.data() + offset, size);
    return;
  }
  while (size > 0) {
    const ssize_t n = ::pread(fd_.get(), into, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path_, "read");
    if (n == 0) throw LoadError(path_ + ": the file shrank while it was read");
    into += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
}

void MappedInput::map_ahead(std::size_t from) {
  const std::size_t until = std::min(size_, from + kWindow);
  if (until <= mapped_ahead_) return;
  const std::size_t start = std::max(from, mapped_ahead_) / page_ * page_;
  // Failing (kernels before 5.14 lack it) only leaves the pages to be faulted in one by one.
  (void)::madvise(static_cast<char*>(mapping_) + start, until - start, MADV_POPULATE_READ);
  mapped_ahead_ = until;
}

void MappedInput::release_before(const char* position) {
  if (mapping_ == nullptr) return;
  const auto* base = static_cast<const char*>(mapping_);
  if (position < base || position > base + size_) return;
  const auto read = static_cast<std::size_t>(position - base);
  const std::size_t release_until = read / page_ * page_;
  if (release_until > released_) {
    release_range(base + released_, base + release_until);
    released_ = release_until;
  }
  map_ahead(read);
}

void MappedInput::release_range(const char* from, const char* to) const {
  if (mapping_ == nullptr) return;
  const auto* base = static_cast<const char*>(mapping_);
  if (from < base || to > base + size_ || from >= to) return;
  const std::size_t first = (static_cast<std::size_t>(from - base) + page_ - 1) / page_ * page_;
  const std::size_t last = static_cast<std::size_t>(to - base) / page_ * page_;
  // A private, never written file mapping: dropped pages read the file again if touched.
  if (last > first) (void)::madvise(static_cast<char*>(mapping_) + first, last - first, MADV_DONTNEED);
}

// A compressed reference set (gzip or zstd, known by its magic bytes whatever its name) is
// expanded into memory in place of the mapping.
void MappedInput::decompress_if_needed(const std::string& path) {
  const simdjson::padded_string_view data = view();
  const Compression compression = detect_compression(std::string_view(data.data(), data.size()));
  if (compression == Compression::None) return;
  auto expanded = decompress(std::string_view(data.data(), data.size()), compression, path);
  if (!expanded) throw LoadError(expanded.error().message);
  streamed_ = simdjson::padded_string(*expanded);
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
  mapping_ = nullptr;
}

MappedInput::~MappedInput() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
}

simdjson::padded_string_view MappedInput::view() const {
  if (mapping_ == nullptr)
    return simdjson::padded_string_view(streamed_.data(), streamed_.size(),
                                        streamed_.size() + simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(static_cast<const char*>(mapping_), size_, mapping_size_);
}

}  // namespace kerchunkfs::refstore
