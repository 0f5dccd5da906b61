#include "tests/fuzz/targets.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>

#include "fetch/http_response.h"
#include "refstore/compression.h"
#include "refstore/refstore.h"
#include "scanner/scan.h"

namespace kerchunkfs::fuzz {

void refstore_input(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  common::Result<std::string> expanded = std::string();
  // As a mounted file is read: compressed sets are expanded first.
  if (const auto compression = refstore::detect_compression(text); compression != refstore::Compression::None) {
    expanded = refstore::decompress(text, compression, "input");
    if (!expanded) return;
    text = *expanded;
  }
  refstore::LoadOptions options;
  options.default_target = "/data/default.h5";
  const auto loaded = refstore::RefStore::parse(text, options);
  if (!loaded) return;
  const refstore::RefStore& store = *loaded;
  // Walk what was built, as a mount would.
  for (refstore::NodeId node = 0; node < store.node_count(); ++node) {
    if (store.is_replaced(node)) continue;
    (void)store.entry(node);
    (void)store.key(node);
    if (store.is_directory(node)) (void)store.children(node);
  }
}

void http_input(const std::uint8_t* data, std::size_t size) {
  // [status: 2 bytes][offset: 4][length: 4][body size: 4][Content-Range text...]
  if (size < 14) return;
  std::uint16_t status = 0;
  std::uint32_t offset = 0, length = 0, body = 0;
  std::memcpy(&status, data, 2);
  std::memcpy(&offset, data + 2, 4);
  std::memcpy(&length, data + 6, 4);
  std::memcpy(&body, data + 10, 4);
  const std::string_view header(reinterpret_cast<const char*>(data) + 14, size - 14);
  (void)fetch::parse_content_range(header);
  (void)fetch::parse_unsatisfied_total(header);
  const auto verdict = fetch::judge_range_answer({status, header, body}, offset, length == 0 ? 1 : length);
  // What the source does with a verdict it accepts: the slice must lie inside the body.
  if (verdict.ok && (verdict.body_offset > body || verdict.length > body - verdict.body_offset)) __builtin_trap();
}

void scan_input(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)quiet;
  // HDF5 wants a file with a real path (a memfd's /proc path will not do): one per process, in
  // memory, rewritten for every input.
  static const std::string path = "/dev/shm/kerchunkfs-fuzz-" + std::to_string(::getpid()) + ".h5";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const bool written = ::write(fd, data, size) == static_cast<ssize_t>(size);
  ::close(fd);
  if (!written) return;
  try {
    scanner::ScanOptions options;
    options.inline_unsupported = 1 << 16;
    (void)scanner::scan_file(path, options);
  } catch (const scanner::ScanError&) {
  }
}

}  // namespace kerchunkfs::fuzz
