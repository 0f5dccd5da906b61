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

}  // namespace

DecodedView::DecodedView(const refstore::RefStore& store, const ReadPath& path, ChunkDecoder& decoder,
                         const Logger& log, std::uint32_t generation)
    : store_(store), path_(path), decoder_(decoder), log_(log), generation_(generation) {}

std::unique_ptr<DecodedArray> DecodedView::load(NodeId directory) const {
  const auto zarray = store_.lookup(directory, ".zarray");
  if (!zarray) return nullptr;
  const refstore::Entry entry = store_.entry(*zarray);
  if (entry.kind != EntryKind::Inline) return nullptr;
  auto meta = common::ArrayMeta::parse(entry.data);
  if (!meta) return nullptr;
  const std::string array_key = directory == refstore::kRootNode ? std::string("/") : store_.key(directory);
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
  const std::string_view name = store_.name(node);
  if (name == ".zarray") return inline_content(decoded->zarray);
  if (!decoded->grid.index_of(name)) return nullptr;
  return std::make_unique<DecodedChunkContent>(*this, node, *decoded);
}

std::optional<std::uint64_t> DecodedView::size_of(NodeId node) {
  if (node == refstore::kRootNode || store_.entry(node).kind == EntryKind::Directory) return std::nullopt;
  const DecodedArray* decoded = array(store_.parent(node));
  if (decoded == nullptr) return std::nullopt;
  const std::string_view name = store_.name(node);
  if (name == ".zarray") return decoded->zarray.size();
  if (!decoded->grid.index_of(name)) return std::nullopt;
  return decoded->pipeline->decoded_size();
}

ChunkDecoder::Stored DecodedView::stored(NodeId node) const {
  const refstore::Entry entry = store_.entry(node);
  fetch::Fetcher& fetcher = path_.fetcher;
  switch (entry.kind) {
    case EntryKind::Inline:
      // Called at once by the decoder, while the generation holding the bytes is alive.
      return [data = entry.data](const fetch::BytesDone& done) { done(std::span<const char>(data)); };
    case EntryKind::Range: {
      const fetch::Extent extent{path_.targets[entry.url], entry.offset, entry.length};
      return [&fetcher, extent](fetch::BytesDone done) {
        fetcher.read(extent, 0, extent.length, [extent, done = std::move(done)](const Result<std::span<const char>>& bytes) {
          if (bytes && bytes->size() != extent.length) {
            return done(Error{"target ends before the referenced range: got " + std::to_string(bytes->size()) +
                              " of " + std::to_string(extent.length) + " bytes"});
          }
          done(bytes);
        });
      };
    }
    case EntryKind::WholeFile: {
      const fetch::Target* target = path_.targets[entry.url];
      return [&fetcher, target](fetch::BytesDone done) {
        fetcher.size(*target, [&fetcher, target, done = std::move(done)](Result<std::uint64_t> size) {
          if (!size) return done(size.error());
          fetcher.read(fetch::Extent{target, 0, *size}, 0, *size, done);
        });
      };
    }
    case EntryKind::Directory:
      break;
  }
  return [](const fetch::BytesDone& done) { done(Error{"not a file"}); };
}

fetch::CacheKey DecodedView::key(NodeId node, const DecodedArray& array) const {
  return fetch::CacheKey{generation_, node, array.pipeline->decoded_size()};
}

void DecodedView::read_chunk(NodeId node, const DecodedArray& array, std::uint64_t offset, std::size_t length,
                             ContentRead done) {
  const std::size_t size = array.pipeline->decoded_size();
  if (offset >= size) return done(std::span<const char>{});
  // The chunks a serial reader reads next: their stored bytes are fetched together (coalesced),
  // and decoded on the workers as they arrive, no more than half the decoded cache ahead.
  const std::vector<NodeId> ahead = path_.readahead.on_chunk_read(path_.fetcher, path_.targets, node);
  const std::uint64_t room = decoder_.cache_capacity() / 2 / std::max<std::size_t>(size, 1);
  for (std::size_t i = 0; i < ahead.size() && i < room; ++i) {
    decoder_.prefetch(key(ahead[i], array), array.pipeline, stored(ahead[i]));
  }
  decoder_.get(key(node, array), array.pipeline, stored(node),
               [offset, length, done = std::move(done)](const Result<fetch::Bytes>& bytes) {
                 if (!bytes) return done(bytes.error());
                 const std::string_view view = bytes->view;
                 done(std::span<const char>(view.data() + offset, std::min<std::uint64_t>(length, view.size() - offset)));
               });
}

}  // namespace kerchunkfs::daemon
