// The FUSE layer: libfuse's low-level operations table, one trampoline per operation into the
// Filesystem, and every reply to the kernel. Nothing is decided here beyond what the kernel
// connection itself offers (opening without asking, request sizes); reads are counted here, once,
// whatever their content kind.
#pragma once

#include <fuse_lowlevel.h>

#include "daemon/filesystem.h"

namespace kerchunkfs::daemon {

class FuseAdapter {
 public:
  explicit FuseAdapter(Filesystem& filesystem) : filesystem_(filesystem) {}

  // The operations table; the session's userdata must point at this adapter.
  static const fuse_lowlevel_ops& operations();

  // Swaps in a newly loaded reference set, then has the kernel drop what it cached of the root
  // (through `session`, when there is one) so that paths resolve again, in the new generation.
  void replace(ReferenceSet set, const struct timespec& mtime, fuse_session* session);

 private:
  struct Ops;
  Filesystem& filesystem_;
  bool skip_open_ = false;     // the kernel opens files without asking (and keeps their cache)
  bool skip_opendir_ = false;  // ... and directories (and caches their listings)
};

}  // namespace kerchunkfs::daemon
