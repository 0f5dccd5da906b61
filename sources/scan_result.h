// What scanning one file gives, whatever its format: the references (zarr v2 metadata and a
// reference or inline bytes per stored chunk), a report per dataset of what was referenced,
// inlined, refused or skipped and why, and the options every format reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fetch/source_registry.h"
#include "refstore/writer.h"
#include "sources/file_bytes.h"
#include "sources/remote_file.h"

namespace kerchunkfs::sources {

struct ScanOptions {
  std::string url;                       // written into references; the file's path by default
  std::uint64_t inline_threshold = 500;  // chunks smaller than this are inlined
  // A dataset whose filters have no zarr codec is decoded by HDF5 (plugins included) and
  // inlined, uncompressed, when it holds at most this many bytes; refused when larger.
  std::uint64_t inline_unsupported = 1 << 20;
  // Uncompressed contiguous datasets larger than this are split into chunks of at most this many
  // bytes along their first axes, so that partial reads fetch only what they need; 0: never.
  std::uint64_t split_contiguous = 0;
  // netCDF classic variables without a _FillValue get the type's default fill as their zarr fill
  // value (readers that mask, such as netCDF4-python, treat it as missing); false: none (as
  // xarray's netCDF reader, which does not mask default fills).
  bool default_fill = true;
  // DMR++ sidecars written before build_dmrpp recorded byteOrder: the order their multi-byte values
  // are taken to be in ("LE" or "BE", as the user says); empty: such variables are refused.
  std::string dmrpp_byte_order;
  // Where chunk locations come from: the v1 B-tree read from the file where there is one (one
  // pass), or always HDF5's per-chunk lookups (for comparing the two in tests).
  bool library_chunk_index = false;
  // Remote files (any location with a URL scheme other than file://) are read through these
  // sources, with these block sizes; without sources only local files can be scanned.
  const fetch::SourceRegistry* sources = nullptr;
  RemoteReadOptions remote;
};

struct DatasetReport {
  std::string path;
  enum class Outcome { Referenced, Inlined, Refused, Skipped } outcome;
  std::string reason;  // for Refused and Skipped
};

struct ScanResult {
  refstore::ReferenceMap references;
  std::vector<DatasetReport> datasets;
  std::uint64_t chunk_references = 0;
};

// A chunk at `offset`, `length` of the file `bytes` (named `url` in references): its bytes inline
// when `inline_bytes` says so and they can be read, a range reference otherwise.
void add_chunk_reference(ScanResult& result, FileBytes& bytes, const std::string& key, const std::string& url,
                         std::uint64_t offset, std::uint64_t length, bool inline_bytes);

}  // namespace kerchunkfs::sources
