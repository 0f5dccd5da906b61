// DAP4 Structures (HDF5 compounds) of a DMR++ sidecar as zarr structured dtypes, and the records
// build_dmrpp writes into dmrpp:specialstructuredata for compounds that hold strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sources/dmrpp/dap_types.h"

namespace kerchunkfs::sources {

struct StructureMember {
  std::string name;
  const AtomicType* type = nullptr;  // nullptr: a string
  std::vector<std::uint64_t> shape;  // a member array's extents; empty for one value
  std::uint64_t string_length = 0;   // strings: bytes of the fixed-length form zarr stores

  std::uint64_t count() const;  // values in one record
  std::uint64_t size() const;   // bytes in one record
};

// The packed record's size: every member's bytes, in order, without gaps.
std::uint64_t packed_size(const std::vector<StructureMember>& members);

// The zarr v2 dtype, JSON: [["a", "<i4"], ["b", "|S4", [3]]]; `endian` is '<' or '>'.
std::string structure_dtype(const std::vector<StructureMember>& members, char endian);

// Whether structOffset (each member's end: the next member's offset, then the record's size)
// describes the packed record, with no gap zarr could not describe.
bool offsets_are_packed(const std::vector<StructureMember>& members, const std::vector<std::uint64_t>& ends);

// dmrpp:specialstructuredata (already base64-decoded): `records` records of the members in order,
// numbers as little-endian bytes, every string in base64 followed by ';'. Returns every value in
// order (a number's bytes, a string's text) and sets each string member's length to its longest
// value; or what is wrong with the data.
[[nodiscard]] common::Result<std::vector<std::string>> special_structure_values(std::string_view data,
                                                                                std::uint64_t records,
                                                                                std::vector<StructureMember>& members);

// Those values as packed records, each string padded with NULs to its member's length.
std::string packed_records(std::vector<std::string> values, const std::vector<StructureMember>& members,
                           std::uint64_t records);

}  // namespace kerchunkfs::sources
