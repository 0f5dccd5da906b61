// Arrays that kerchunkfs-scan combine assembled from files whose chunk grids or packing differ
// (scanner/combine.h, "compressor": {"id": "kerchunkfs.assembled", ...}): the decoded view shows
// them as ordinary arrays with a regular chunk grid, and makes each chunk here from slices of the
// files' decoded chunks, unpacked (CF rules, as xarray does) where their packing differs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/codec.h"
#include "common/zarr_array.h"
#include "daemon/chunk_decoder.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

inline constexpr std::string_view kAssembledCodec = "kerchunkfs.assembled";
inline constexpr std::string_view kAssemblyDirectory = ".kerchunkfs";  // holds the files' own arrays

struct AssemblyPart {
  std::uint64_t offset = 0, length = 0;  // where it sits along the axis
  refstore::NodeId directory = 0;        // ARRAY/.kerchunkfs/N
  common::ArrayMeta meta;
  common::ChunkGrid grid;
  std::shared_ptr<const codec::Pipeline> pipeline;
  std::optional<codec::ElementConverter> converter;  // none: elements copied as they are
  std::string fill;  // one element of the file's fill value, as shown (a never-written chunk)
};

struct Assembly {
  std::size_t axis = 0;
  std::vector<AssemblyPart> parts;
  common::ArrayMeta meta;  // as shown: compressor and filters null
  common::ChunkGrid grid;
  std::size_t element_size = 0;  // shown
  std::size_t chunk_bytes = 0;

  // From the array in `directory`, whose .zarray is `meta` with `compressor` its codec JSON. An
  // error says what is wrong with it.
  [[nodiscard]] static common::Result<Assembly> load(const refstore::RefStore& store, refstore::NodeId directory,
                                                     const common::ArrayMeta& meta);
};

// Gives the decoded chunk `node` of `part`.
using PartChunk = std::function<void(const AssemblyPart& part, refstore::NodeId node, ChunkDecoder::Done done)>;

// Makes chunk `index` of the assembled array: gathers the files' decoded chunks it overlaps, then
// copies (and converts) their slices on a worker.
void assemble_chunk(const std::shared_ptr<const Assembly>& assembly, const refstore::RefStore& store,
                    std::uint64_t index, const PartChunk& decoded, ChunkDecoder& decoder, ChunkDecoder::Made done);

}  // namespace kerchunkfs::daemon
