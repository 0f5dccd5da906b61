// DAP4's atomic types as zarr sees them: what a DMR++ sidecar's variables and members are made of.
#pragma once

#include <string_view>

namespace kerchunkfs::sources {

struct AtomicType {
  std::string_view dap;
  char kind;  // zarr's: i, u, f, S (Char: one byte of text)
  int size;
};

// The atomic type DAP4 calls `name`, or nullptr.
const AtomicType* atomic_type(std::string_view name);

}  // namespace kerchunkfs::sources
