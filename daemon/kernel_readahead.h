// The kernel's readahead for the mount. FUSE can only lower the default window (128 KiB) at
// init, so a sequential reader of a large file would send 128 KiB requests; the window is the
// mount's backing device's read_ahead_kb in sysfs, which root may raise.
#pragma once

#include <string>

#include "common/result.h"

namespace kerchunkfs::daemon {

// Sets the readahead window of the file system mounted at `mountpoint` (absolute, as in
// /proc/self/mountinfo) to `kib`; an error says why not (not root, no such mount).
[[nodiscard]] common::Status set_kernel_readahead(const std::string& mountpoint, unsigned kib);

}  // namespace kerchunkfs::daemon
