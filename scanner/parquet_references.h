// Reference sets in kerchunk's parquet layout (fsspec's LazyReferenceMapper, kerchunk's
// refs_to_dataframe): DIR/.zmetadata holds every .zgroup, .zattrs and .zarray with the record
// size, and each array's chunk references are rows of DIR/ARRAY/refs.K.parq, the chunk of C-order
// index i in file i / record_size, row i % record_size, columns path, offset, size and raw.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "refstore/writer.h"

namespace kerchunkfs::scanner {

inline constexpr std::uint64_t kDefaultRecordSize = 100'000;  // kerchunk's

// Writes `references` as the directory `directory`. Keys that are neither metadata nor a chunk
// of an array have no place in the layout: they are refused by name.
[[nodiscard]] common::Status write_parquet_references(const std::string& directory,
                                                      const refstore::ReferenceMap& references,
                                                      std::uint64_t record_size);

}  // namespace kerchunkfs::scanner
