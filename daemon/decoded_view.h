// The decoded view (-o decode): every array whose codecs kerchunkfs decodes (codec/codec.h) is
// shown as if stored raw, so that any zarr reader reads it, whatever codecs the reader has. Its
// .zarray says "compressor": null, "filters": null (shape, chunks, fill value and order as they
// are; the dtype little-endian, since NCZarr 4.9 misreads big-endian arrays), and each chunk file
// holds the raw bytes of its chunk, decoded by the mount's ChunkDecoder. An array with a codec not decoded here stays
// as stored, with one log line naming the array and the codec. Missing chunks stay missing: the reader fills them.
//
// One view per generation, resolved lazily, array by array, as its files are looked up.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "codec/codec.h"
#include "common/zarr_array.h"
#include "daemon/assembled_array.h"
#include "daemon/chunk_decoder.h"
#include "daemon/content.h"
#include "daemon/log.h"
#include "refstore/refstore.h"

namespace kerchunkfs::daemon {

struct DecodedArray {
  std::shared_ptr<const codec::Pipeline> pipeline;  // null for an assembled array
  std::shared_ptr<const Assembly> assembly;         // an array combine assembled (assembled_array.h)
  common::ChunkGrid grid;
  std::string zarray;               // the .zarray shown
  std::uint64_t first_ordinal = 0;  // assembled: chunk i's file is synthesized file first_ordinal + i
  mutable std::atomic<std::uint64_t> last_read{kNone};  // the chunk read last: is the reader serial?
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
};

// A chunk file of an assembled array, which no key of the set names.
struct SynthesizedFile {
  std::uint64_t ordinal = 0;  // unique in the view: the inode number's low bits follow from it
  std::unique_ptr<Content> content;
  std::uint64_t size = 0;
};

class DecodedView {
 public:
  // `generation` keeps decoded chunks of different generations apart in the decoder's cache.
  // `rows_lazy`: the set keeps chunks in a chunk table (daemon/reference_set.h), read when asked, not as nodes.
  DecodedView(const refstore::RefStore& store, const ReadPath& path, ChunkDecoder& decoder, const Logger& log,
              std::uint32_t generation, bool rows_lazy);

  // The decoding of the array in `directory`; null when it is no array, is stored raw already,
  // or uses a codec not decoded here.
  const DecodedArray* array(refstore::NodeId directory);
  // The content of `node` in the view, when the view changes it (an array's .zarray or a chunk);
  // null: the node shows what it stores.
  std::unique_ptr<Content> content_of(refstore::NodeId node);
  // The size `node` shows in the view, when the view changes it.
  std::optional<std::uint64_t> size_of(refstore::NodeId node);
  // Whether the view hides `node` (the files' own arrays inside an assembled array).
  bool hidden(refstore::NodeId node);
  // A chunk file of an assembled array in `directory` named `name`, if it is one.
  std::optional<SynthesizedFile> synthesized(refstore::NodeId directory, std::string_view name);
  // The assembly of the array in `directory`, if it is an assembled one.
  const Assembly* assembly_of(refstore::NodeId directory);

  // How chunk `index` of an array is read as stored, when no node names it (a parquet set's
  // row, read when asked); nullopt: missing, or not readable (the read itself reports why).
  using StoredOf = std::function<std::optional<ChunkDecoder::Stored>(std::uint64_t index)>;
  // The decoded content of chunk `index` of `array`, read with `stored`; the chunks a serial
  // reader reads next are decoded ahead through `stored_of`. `ordinal` numbers the chunk in the
  // view (unique in the generation, as its inode number is), and chunk index + k is ordinal + k.
  std::unique_ptr<Content> row_chunk(const DecodedArray& array, std::uint64_t index, std::uint64_t ordinal,
                                     ChunkDecoder::Stored stored, StoredOf stored_of);
  void read_row_chunk(const DecodedArray& array, std::uint64_t index, std::uint64_t ordinal,
                      const ChunkDecoder::Stored& stored, const StoredOf& stored_of, std::uint64_t offset,
                      std::size_t length, ContentRead done);

  // Readers of stored bytes that outlive the generation (they hold only the fetcher and targets).
  static ChunkDecoder::Stored stored_inline(std::string bytes);
  static ChunkDecoder::Stored stored_range(fetch::Fetcher& fetcher, const fetch::Extent& extent);
  static ChunkDecoder::Stored stored_whole_file(fetch::Fetcher& fetcher, const fetch::Target& target);

  // Reads bytes [offset, offset + length) of a decoded chunk, and starts decoding the chunks a
  // serial reader reads next.
  void read_chunk(refstore::NodeId node, const DecodedArray& array, std::uint64_t offset, std::size_t length,
                  ContentRead done);
  // The same for chunk `index` of the assembled array in `directory`.
  void read_assembled(refstore::NodeId directory, const DecodedArray& array, std::uint64_t index, std::uint64_t offset,
                      std::size_t length, ContentRead done);

 private:
  std::unique_ptr<DecodedArray> load(refstore::NodeId directory);
  ChunkDecoder::Stored stored(refstore::NodeId node) const;
  fetch::CacheKey key(refstore::NodeId node, std::size_t decoded_size) const;
  // How many chunks after `index` to decode ahead: a few per worker while reads go in order (the
  // memory of chunks read is reused for those ahead), none after a jump.
  std::uint64_t decode_ahead(const DecodedArray& array, std::uint64_t index, std::size_t chunk_bytes) const;
  fetch::CacheKey assembled_key(refstore::NodeId directory, std::uint64_t index, const Assembly& assembly) const;
  ChunkDecoder::Make assembling(const DecodedArray& array, std::uint64_t index);

  const refstore::RefStore& store_;
  const ReadPath& path_;
  ChunkDecoder& decoder_;
  const Logger& log_;
  const std::uint32_t generation_;
  const bool rows_lazy_;
  std::mutex mutex_;
  std::unordered_map<refstore::NodeId, std::unique_ptr<DecodedArray>> arrays_;  // null: shown as stored
  std::uint64_t next_ordinal_ = 0;  // the synthesized files' numbers given out so far
};

}  // namespace kerchunkfs::daemon
