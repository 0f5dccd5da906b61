// Read-ahead: every decision to fetch bytes before a reader asks for them is made here; fetch/
// only carries them out (Fetcher::prefetch, Fetcher::prefetch_range).
//
// Three levels, each suited to what it sees:
// - The kernel reads ahead within one open file, kKernelReadahead bytes a request (its window,
//   set at mount, see kernel_readahead.h), so a sequential reader of a large file sends few, large
//   reads. Measured on the local splice path (bench/run_fuse_pipe.py): 512 KiB requests beat
//   128 KiB ones by half again, and 1 MiB ones fall back (splice pages cost more than they save).
// - Within a large extent (a whole-file reference, or a range larger than one cache block), the
//   block after the one a read ends in is fetched at once: the next read of a sequential reader
//   finds it in memory or on its way.
// - Across chunk files: zarr readers read an array's chunk files one after another in C order, so
//   when a chunk is read the next ones are fetched at once, concurrently and coalesced. The next
//   chunks come from the chunk grid in the array's .zarray and are looked up by name (no state per
//   chunk). Per array, a window of chunks grows fourfold while reads follow each other (64, 256,
//   1024) and drops to nothing after a jump, like the kernel's file readahead; a byte budget per
//   read (-o prefetch) bounds it whatever the chunk size. Only remote chunks are read ahead: the
//   kernel's page cache already serves local files.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/zarr_array.h"
#include "fetch/fetcher.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

class ReadAhead {
 public:
  // The kernel's readahead window within a file, which sets a sequential reader's request size.
  static constexpr unsigned kKernelReadahead = 512u << 10;
  // The largest request the kernel may send: a spliced reply (this and a 16-byte header) fits a
  // pipe of the default largest size, 1 MiB, so libfuse never falls back to copying.
  static constexpr unsigned kLargestRequest = (1u << 20) - 4096;
  static constexpr std::uint32_t kInitialWindow = 64;
  static constexpr std::uint32_t kGrowth = 4;
  static constexpr std::uint32_t kMaxWindow = 1024;

  // `budget_bytes` bounds what one chunk read asks for ahead of itself; 0 turns chunk read-ahead off.
  ReadAhead(const refstore::RefStore& store, std::uint64_t budget_bytes);

  // Called as a read of bytes [position, position + length) of `node`, whose target range is
  // `extent`, starts; `targets` is the reference set's URL table. The bytes being read are not
  // fetched here: the read asks for them itself, and never waits for read-ahead bytes.
  void on_read(fetch::Fetcher& fetcher, std::span<const fetch::Target* const> targets, refstore::NodeId node,
               const fetch::Extent& extent, std::uint64_t position, std::uint64_t length);

  // Called as a read of chunk `node` starts, whatever it is stored in: plans the chunks to read
  // ahead and fetches those stored remotely. Returns them (the decoded view decodes them too).
  std::vector<refstore::NodeId> on_chunk_read(fetch::Fetcher& fetcher, std::span<const fetch::Target* const> targets,
                                              refstore::NodeId node);

  // The chunks to fetch along with `chunk`, which is being read: empty when there is nothing to
  // add (not a chunk of a known grid, random access, already asked for, or read-ahead off).
  std::vector<refstore::NodeId> plan(refstore::NodeId chunk);

 private:
  struct Array {
    std::optional<common::ChunkGrid> grid;  // none: not an array whose chunks can be named
    std::optional<std::uint64_t> last;      // linear index of the chunk read last
    std::uint64_t asked_until = 0;          // chunks up to this one have been asked for already
    std::uint32_t window = 0;
  };
  Array load_array(refstore::NodeId directory) const;

  const refstore::RefStore& store_;
  std::uint64_t budget_;
  std::mutex mutex_;
  std::unordered_map<refstore::NodeId, Array> arrays_;
};

}  // namespace kerchunkfs::daemon
