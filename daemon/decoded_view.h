// The decoded view (-o decode): every array whose codecs kerchunkfs decodes (codec/codec.h) is
// shown as if stored raw, so that any zarr reader reads it, whatever codecs the reader has. Its
// .zarray says "compressor": null, "filters": null (shape, chunks, fill value and order as they
// are; the dtype little-endian, since NCZarr 4.9 misreads big-endian arrays), and each chunk file
// holds the raw bytes of its chunk, decoded by the mount's ChunkDecoder. An array with a codec not decoded here stays as stored, with one log line naming
// the array and the codec. Missing chunks stay missing: the reader fills them.
//
// One view per generation, resolved lazily, array by array, as its files are looked up.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "codec/codec.h"
#include "common/zarr_array.h"
#include "daemon/chunk_decoder.h"
#include "daemon/content.h"
#include "daemon/log.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

struct DecodedArray {
  std::shared_ptr<const codec::Pipeline> pipeline;
  common::ChunkGrid grid;
  std::string zarray;  // the .zarray shown
};

class DecodedView {
 public:
  // `generation` keeps decoded chunks of different generations apart in the decoder's cache.
  DecodedView(const refstore::RefStore& store, const ReadPath& path, ChunkDecoder& decoder, const Logger& log,
              std::uint32_t generation);

  // The decoding of the array in `directory`; null when it is no array, is stored raw already,
  // or uses a codec not decoded here.
  const DecodedArray* array(refstore::NodeId directory);
  // The content of `node` in the view, when the view changes it (an array's .zarray or a chunk);
  // null: the node shows what it stores.
  std::unique_ptr<Content> content_of(refstore::NodeId node);
  // The size `node` shows in the view, when the view changes it.
  std::optional<std::uint64_t> size_of(refstore::NodeId node);

  // Reads bytes [offset, offset + length) of a decoded chunk, and starts decoding the chunks a
  // serial reader reads next.
  void read_chunk(refstore::NodeId node, const DecodedArray& array, std::uint64_t offset, std::size_t length,
                  ContentRead done);

 private:
  std::unique_ptr<DecodedArray> load(refstore::NodeId directory) const;
  ChunkDecoder::Stored stored(refstore::NodeId node) const;
  fetch::CacheKey key(refstore::NodeId node, const DecodedArray& array) const;

  const refstore::RefStore& store_;
  const ReadPath& path_;
  ChunkDecoder& decoder_;
  const Logger& log_;
  const std::uint32_t generation_;
  std::mutex mutex_;
  std::unordered_map<refstore::NodeId, std::unique_ptr<DecodedArray>> arrays_;  // null: shown as stored
};

}  // namespace kerchunkfs::daemon
