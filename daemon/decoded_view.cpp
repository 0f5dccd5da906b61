#include "daemon/decoded_view.h"

#include <algorithm>

#include "daemon/readahead.h"

namespace kerchunkfs::daemon {
namespace {

using common::Error;
using common::Result;
using refstore::EntryKind;
using refstore::NodeId;

class DecodedChunkContent final : public Content {
 public:
  DecodedChunkContent(DecodedView& view, NodeId node, const DecodedArray& array)
      : view_(view), node_(node), array_(array) {}
  void size(ContentSize done) const override { done(std::uint64_t{array_.pipeline->decoded_size()}); }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    view_.read_chunk(node_, array_, offset, length, std::move(done));
  }

 private:
  DecodedView& view_;  // the generation's, which outlives its contents
  NodeId node_;
  const DecodedArray& array_;
};

class AssembledChunkContent final : public Content {
 public:
  AssembledChunkContent(DecodedView& view, NodeId directory, const DecodedArray& array, std::uint64_t index)
      : view_(view), directory_(directory), array_(array), index_(index) {}
  void size(ContentSize done) const override { done(std::uint64_t{array_.assembly->chunk_bytes}); }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    view_.read_assembled(directory_, array_, index_, offset, length, std::move(done));
  }

 private:
  DecodedView& view_;  // the generation's, which outlives its contents
  NodeId directory_;
  const DecodedArray& array_;
  std::uint64_t index_;
};

class RowChunkContent final : public Content {
 public:
  RowChunkContent(DecodedView& view, const DecodedArray& array, std::uint64_t index, std::uint64_t ordinal,
                  ChunkDecoder::Stored stored, DecodedView::StoredOf stored_of)
      : view_(view),
        array_(array),
        index_(index),
        ordinal_(ordinal),
        stored_(std::move(stored)),
        stored_of_(std::move(stored_of)) {}
  void size(ContentSize done) const override { done(std::uint64_t{array_.pipeline->decoded_size()}); }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    view_.read_row_chunk(array_, index_, ordinal_, stored_, stored_of_, offset, length, std::move(done));
  }

 private:
  DecodedView& view_;  // the generation's, which outlives its contents
  const DecodedArray& array_;
  std::uint64_t index_;
  std::uint64_t ordinal_;
  ChunkDecoder::Stored stored_;
  DecodedView::StoredOf stored_of_;
};

// The bytes [offset, offset + length) of decoded chunk `key`, to `done`; a read that reaches the
// chunk's end lets the decoder forget it.
auto slicer(ChunkDecoder& decoder, const fetch::CacheKey& key, std::uint64_t offset, std::size_t length,
            ContentRead done) {
  return [&decoder, key, offset, length, done = std::move(done)](const Result<fetch::Bytes>& bytes) {
    if (!bytes) return done(bytes.error());
    const std::string_view view = bytes->view;
    if (offset >= view.size()) return done(std::span<const char>{});
    const std::uint64_t count = std::min<std::uint64_t>(length, view.size() - offset);
    done(std::span<const char>(view.data() + offset, count));
    if (offset + count == view.size()) decoder.consumed(key);
  };
}

}  // namespace

DecodedView::DecodedView(const refstore::RefStore& store, const ReadPath& path, ChunkDecoder& decoder,
                         const Logger& log, std::uint32_t generation, bool rows_lazy)
    : store_(store), path_(path), decoder_(decoder), log_(log), generation_(generation), rows_lazy_(rows_lazy) {}

std::unique_ptr<DecodedArray> DecodedView::load(NodeId directory) {
  const auto zarray = store_.lookup(directory, ".zarray");
  if (!zarray) return nullptr;
  const refstore::Entry entry = store_.entry(*zarray);
  if (entry.kind != EntryKind::Inline) return nullptr;
  auto meta = common::ArrayMeta::parse(entry.data);
  if (!meta) return nullptr;
  const std::string array_key = directory == refstore::kRootNode ? std::string("/") : store_.key(directory);
  if (meta->compressor.find(std::string("\"") + std::string(kAssembledCodec) + "\"") != std::string::npos) {
    if (rows_lazy_) {
      // Its parts' chunks are rows too, which an assembly does not look up: shown as stored, the
      // codec's name makes readers refuse it rather than misread it.
      decoder_.counters().raw_arrays += 1;
      log_.error(array_key + ": an assembled array in a parquet reference set is not assembled (use the JSON set)");
      return nullptr;
    }
    auto assembly = Assembly::load(store_, directory, *meta);
    if (!assembly) {
      decoder_.counters().raw_arrays += 1;
      log_.error(array_key + ": an assembled array that cannot be assembled: " + assembly.error().message);
      return nullptr;
    }
    auto array = std::make_unique<DecodedArray>();
    array->grid = assembly->grid;
    array->zarray = assembly->meta.to_json();
    array->assembly = std::make_shared<const Assembly>(std::move(*assembly));
    // Each assembled array numbers its chunk files in a range of its own (called under mutex_).
    array->first_ordinal = next_ordinal_;
    next_ordinal_ += array->grid.chunk_count();
    return array;
  }
  auto pipeline = codec::Pipeline::of(*meta, true);
  if (pipeline && pipeline->empty()) return nullptr;  // raw and little-endian already
  auto grid = common::ChunkGrid::of(meta->shape, meta->chunks);
  if (!pipeline || !grid) {
    decoder_.counters().raw_arrays += 1;
    log_.info(array_key + ": shown as stored, not decoded: " +
              (pipeline ? std::string("its chunk grid is not understood") : pipeline.error().message));
    return nullptr;
  }
  auto array = std::make_unique<DecodedArray>();
  array->pipeline = std::make_shared<const codec::Pipeline>(std::move(*pipeline));
  array->grid = *grid;
  meta->compressor = meta->filters = "null";
  meta->dtype = array->pipeline->dtype();
  array->zarray = meta->to_json();
  return array;
}

const DecodedArray* DecodedView::array(NodeId directory) {
  const std::lock_guard lock(mutex_);
  auto found = arrays_.find(directory);
  if (found == arrays_.end()) found = arrays_.emplace(directory, load(directory)).first;
  return found->second.get();
}

std::unique_ptr<Content> DecodedView::content_of(NodeId node) {
  if (node == refstore::kRootNode || store_.entry(node).kind == EntryKind::Directory) return nullptr;
  const DecodedArray* decoded = array(store_.parent(node));
  if (decoded == nullptr) return nullptr;
  const std::string name = store_.name(node);
  if (name == ".zarray") return inline_content(decoded->zarray);
  if (decoded->assembly || !decoded->grid.index_of(name)) return nullptr;
  return std::make_unique<DecodedChunkContent>(*this, node, *decoded);
}

std::optional<std::uint64_t> DecodedView::size_of(NodeId node) {
  if (node == refstore::kRootNode || store_.entry(node).kind == EntryKind::Directory) return std::nullopt;
  const DecodedArray* decoded = array(store_.parent(node));
  if (decoded == nullptr) return std::nullopt;
  const std::string name = store_.name(node);
  if (name == ".zarray") return decoded->zarray.size();
  if (decoded->assembly || !decoded->grid.index_of(name)) return std::nullopt;
  return decoded->pipeline->decoded_size();
}

bool DecodedView::hidden(NodeId node) {
  if (node == refstore::kRootNode || store_.name(node) != kAssemblyDirectory) return false;
  const DecodedArray* decoded = array(store_.parent(node));
  return decoded != nullptr && decoded->assembly != nullptr;
}

const Assembly* DecodedView::assembly_of(NodeId directory) {
  const DecodedArray* decoded = array(directory);
  return decoded != nullptr ? decoded->assembly.get() : nullptr;
}

std::optional<SynthesizedFile> DecodedView::synthesized(NodeId directory, std::string_view name) {
  const DecodedArray* decoded = array(directory);
  if (decoded == nullptr || !decoded->assembly) return std::nullopt;
  const auto index = decoded->grid.index_of(name);
  if (!index) return std::nullopt;
  SynthesizedFile file;
  file.ordinal = decoded->first_ordinal + *index;
  file.content = std::make_unique<AssembledChunkContent>(*this, directory, *decoded, *index);
  file.size = decoded->assembly->chunk_bytes;
  return file;
}

ChunkDecoder::Stored DecodedView::stored_inline(std::string bytes) {
  return [bytes = fetch::Bytes::whole(std::move(bytes))](const ChunkDecoder::StoredDone& done) { done(bytes); };
}

ChunkDecoder::Stored DecodedView::stored_range(fetch::Fetcher& fetcher, const fetch::Extent& extent) {
  return [&fetcher, extent](ChunkDecoder::StoredDone done) { fetcher.read_shared(extent, std::move(done)); };
}

ChunkDecoder::Stored DecodedView::stored_whole_file(fetch::Fetcher& fetcher, const fetch::Target& target) {
  return [&fetcher, target = &target](ChunkDecoder::StoredDone done) {
    fetcher.size(*target, [&fetcher, target, done = std::move(done)](Result<std::uint64_t> size) {
      if (!size) return done(size.error());
      fetcher.read_shared(fetch::Extent{target, 0, *size}, done);
    });
  };
}

ChunkDecoder::Stored DecodedView::stored(NodeId node) const {
  const refstore::Entry entry = store_.entry(node);
  switch (entry.kind) {
    case EntryKind::Inline:
      // A copy: the decoding may outlive the generation holding the set's bytes.
      return stored_inline(std::string(entry.data));
    case EntryKind::Range:
      return stored_range(path_.fetcher, fetch::Extent{path_.targets[entry.url], entry.offset, entry.length});
    case EntryKind::WholeFile:
      return stored_whole_file(path_.fetcher, *path_.targets[entry.url]);
    case EntryKind::Directory:
      break;
  }
  return [](const ChunkDecoder::StoredDone& done) { done(Error{"not a file"}); };
}

fetch::CacheKey DecodedView::key(NodeId node, std::size_t decoded_size) const {
  return fetch::CacheKey{generation_, node, decoded_size};
}

// Node ids are below 2^32, so keys with the top bit set never meet a stored chunk's.
fetch::CacheKey DecodedView::assembled_key(NodeId directory, std::uint64_t index, const Assembly& assembly) const {
  return fetch::CacheKey{generation_, (1ull << 63) | (std::uint64_t{directory} << 31) | index, assembly.chunk_bytes};
}

// Node ids are below 2^32 and assembled chunks' keys have the top bit set: rows' keys have the next.
std::unique_ptr<Content> DecodedView::row_chunk(const DecodedArray& array, std::uint64_t index, std::uint64_t ordinal,
                                                ChunkDecoder::Stored stored, StoredOf stored_of) {
  return std::make_unique<RowChunkContent>(*this, array, index, ordinal, std::move(stored), std::move(stored_of));
}

void DecodedView::read_row_chunk(const DecodedArray& array, std::uint64_t index, std::uint64_t ordinal,
                                 const ChunkDecoder::Stored& stored, const StoredOf& stored_of, std::uint64_t offset,
                                 std::size_t length, ContentRead done) {
  const std::size_t size = array.pipeline->decoded_size();
  if (offset >= size) return done(std::span<const char>{});
  const auto row_key = [&](std::uint64_t n) { return fetch::CacheKey{generation_, (1ull << 62) | n, size}; };
  const std::uint64_t ahead = offset == 0 ? decode_ahead(array, index, size) : 0;
  for (std::uint64_t k = 1; k <= ahead && index + k < array.grid.chunk_count(); ++k) {
    if (auto next = stored_of(index + k)) {
      decoder_.prefetch(row_key(ordinal + k), decoder_.decoding(array.pipeline, std::move(*next)));
    }
  }
  const fetch::CacheKey chunk = row_key(ordinal);
  decoder_.get(chunk, decoder_.decoding(array.pipeline, stored),
               slicer(decoder_, chunk, offset, length, std::move(done)));
}

ChunkDecoder::Make DecodedView::assembling(const DecodedArray& array, std::uint64_t index) {
  // Everything that needs the generation (the store, this view) is used at once, inside the
  // call: what runs later holds only the assembly, the fetcher and the decoder.
  return [this, assembly = array.assembly, index](ChunkDecoder::Made made) {
    const PartChunk decoded = [this](const AssemblyPart& part, NodeId node, ChunkDecoder::Done done) {
      decoder_.get(key(node, part.pipeline->decoded_size()), decoder_.decoding(part.pipeline, stored(node)),
                   [name = store_.key(node), done = std::move(done)](const Result<fetch::Bytes>& bytes) {
                     if (!bytes) return done(common::wrap(bytes.error(), name));
                     done(bytes);
                   });
    };
    assemble_chunk(assembly, store_, index, decoded, decoder_, std::move(made));
  };
}

std::uint64_t DecodedView::decode_ahead(const DecodedArray& array, std::uint64_t index, std::size_t chunk_bytes) const {
  const std::uint64_t last = array.last_read.exchange(index);
  const bool serial = last == DecodedArray::kNone ? index == 0 : index == last + 1;
  if (!serial) return 0;
  constexpr std::uint64_t kPerWorker = 4;
  const std::uint64_t room = decoder_.cache_capacity() / 2 / std::max<std::size_t>(chunk_bytes, 1);
  return std::min<std::uint64_t>(kPerWorker * decoder_.thread_count(), room);
}

void DecodedView::read_assembled(NodeId directory, const DecodedArray& array, std::uint64_t index, std::uint64_t offset,
                                 std::size_t length, ContentRead done) {
  const Assembly& assembly = *array.assembly;
  if (offset >= assembly.chunk_bytes) return done(std::span<const char>{});
  // Serial readers read the next chunks next: they are assembled meanwhile.
  const std::uint64_t ahead = offset == 0 ? decode_ahead(array, index, assembly.chunk_bytes) : 0;
  for (std::uint64_t next = index + 1; next <= index + ahead && next < assembly.grid.chunk_count(); ++next) {
    decoder_.prefetch(assembled_key(directory, next, assembly), assembling(array, next));
  }
  const fetch::CacheKey chunk = assembled_key(directory, index, assembly);
  decoder_.get(chunk, assembling(array, index), slicer(decoder_, chunk, offset, length, std::move(done)));
}

void DecodedView::read_chunk(NodeId node, const DecodedArray& array, std::uint64_t offset, std::size_t length,
                             ContentRead done) {
  const std::size_t size = array.pipeline->decoded_size();
  if (offset >= size) return done(std::span<const char>{});
  // This chunk first: requests go out in the order they are made, and read-ahead must not queue
  // ahead of what the reader waits for.
  const fetch::CacheKey chunk = key(node, size);
  decoder_.get(chunk, decoder_.decoding(array.pipeline, stored(node)),
               slicer(decoder_, chunk, offset, length, std::move(done)));
  // The chunks a serial reader reads next: their stored bytes are fetched ahead (read-ahead's
  // window, coalesced), and the nearest ones decoded meanwhile on the workers.
  (void)path_.readahead.on_chunk_read(path_.fetcher, path_.targets, node);
  const auto index = offset == 0 ? array.grid.index_of(store_.name(node)) : std::nullopt;
  if (index) {
    const NodeId directory = store_.parent(node);
    const std::uint64_t ahead = decode_ahead(array, *index, size);
    for (std::uint64_t next = *index + 1; next <= *index + ahead && next < array.grid.chunk_count(); ++next) {
      if (const auto following = store_.lookup(directory, array.grid.key_of(next))) {
        decoder_.prefetch(key(*following, size), decoder_.decoding(array.pipeline, stored(*following)));
      }
    }
  }
}

}  // namespace kerchunkfs::daemon
