#include "daemon/assembled_array.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace kerchunkfs::daemon {
namespace {

using common::Error;
using common::Result;
using refstore::NodeId;

std::optional<NodeId> find_path(const refstore::RefStore& store, NodeId from, std::string_view path) {
  std::optional<NodeId> node = from;
  while (node && !path.empty()) {
    const auto slash = path.find('/');
    node = store.lookup(*node, path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return node;
}

std::optional<std::string_view> inline_text(const refstore::RefStore& store, NodeId directory, std::string_view name) {
  const auto node = store.lookup(directory, name);
  if (!node) return std::nullopt;
  const refstore::Entry entry = store.entry(*node);
  if (entry.kind != refstore::EntryKind::Inline) return std::nullopt;
  return entry.data;
}

// C-order element strides of a block of `shape`.
std::vector<std::uint64_t> strides(const std::vector<std::uint64_t>& shape) {
  std::vector<std::uint64_t> out(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) out[d - 1] = out[d] * shape[d];
  return out;
}

// One piece of an assembled chunk: a chunk of a file, and whether it was written.
struct Piece {
  const AssemblyPart* part = nullptr;
  std::vector<std::uint64_t> chunk;  // its coordinates in the file's grid
  std::optional<NodeId> node;
  fetch::Bytes bytes;
};

// Copies the slice of `piece` that lies in output chunk [lo, hi) into `out`.
void copy_piece(const Assembly& assembly, const Piece& piece, const std::vector<std::uint64_t>& lo,
                const std::vector<std::uint64_t>& hi, char* out) {
  const AssemblyPart& part = *piece.part;
  const std::size_t rank = lo.size();
  const std::size_t axis = assembly.axis;
  // The piece's extent in output coordinates, clipped to the chunk.
  std::vector<std::uint64_t> from(rank), to(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    const std::uint64_t shift = d == axis ? part.offset : 0;
    const std::uint64_t start = piece.chunk[d] * part.meta.chunks[d] + shift;
    const std::uint64_t end = std::min(start + part.meta.chunks[d], part.meta.shape[d] + shift);
    from[d] = std::max(start, lo[d]);
    to[d] = std::min(end, hi[d]);
    if (from[d] >= to[d]) return;
  }
  const auto source_strides = strides(part.meta.chunks);
  const auto target_strides = strides(assembly.meta.chunks);
  const std::size_t source_size = part.converter ? part.converter->from_size() : assembly.element_size;
  const std::uint64_t run = to[rank - 1] - from[rank - 1];
  std::vector<std::uint64_t> at = from;
  for (;;) {
    std::uint64_t source = 0, target = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      const std::uint64_t shift = d == axis ? part.offset : 0;
      source += (at[d] - shift - piece.chunk[d] * part.meta.chunks[d]) * source_strides[d];
      target += (at[d] - lo[d]) * target_strides[d];
    }
    char* destination = out + target * assembly.element_size;
    if (!piece.node) {
      for (std::uint64_t i = 0; i < run; ++i) {
        std::copy(part.fill.begin(), part.fill.end(), destination + i * assembly.element_size);
      }
    } else if (part.converter) {
      part.converter->convert(piece.bytes.view.data() + source * source_size, destination, run);
    } else {
      std::memcpy(destination, piece.bytes.view.data() + source * source_size, run * assembly.element_size);
    }
    // The next row: the last dimension is the run; count up the others.
    std::size_t d = rank - 1;
    while (d-- > 0) {
      if (++at[d] < to[d]) break;
      at[d] = from[d];
    }
    if (d == static_cast<std::size_t>(-1)) return;
  }
}

}  // namespace

Result<Assembly> Assembly::load(const refstore::RefStore& store, NodeId directory, const common::ArrayMeta& meta) {
  simdjson::dom::parser parser;
  simdjson::dom::object codec;
  if (parser.parse(simdjson::padded_string(meta.compressor)).get(codec))
    return Error{"its compressor is not an object"};
  Assembly assembly;
  std::uint64_t axis = 0;
  bool unpack = false;
  simdjson::dom::array parts;
  if (codec["axis"].get(axis) || codec["parts"].get(parts) || codec["unpack"].get(unpack) ||
      axis >= meta.shape.size()) {
    return Error{std::string(kAssembledCodec) + " needs an axis of the array, parts and unpack"};
  }
  assembly.axis = axis;
  assembly.meta = meta;
  assembly.meta.compressor = assembly.meta.filters = "null";
  auto element = codec::dtype_size(meta.dtype);
  if (!element) return element.error();
  // Integers and floats are shown little-endian (as the decoded view shows every array).
  std::string shown_dtype = meta.dtype;
  if (codec::ElementConverter::make(meta.dtype, meta.dtype, {}) && shown_dtype.size() > 2 && shown_dtype[1] == '>') {
    shown_dtype[1] = '<';
  }
  assembly.meta.dtype = shown_dtype;
  assembly.element_size = *element;
  auto grid = common::ChunkGrid::of(meta.shape, meta.chunks);
  if (!grid) return Error{"its chunk grid is not understood"};
  assembly.grid = *grid;
  assembly.chunk_bytes = *element;
  for (const std::uint64_t extent : meta.chunks) assembly.chunk_bytes *= extent;
  if (assembly.grid.chunk_count() >= (1ull << 31)) return Error{"more than 2^31 chunks"};
  std::uint64_t expected_offset = 0;
  for (const auto item : parts) {
    AssemblyPart part;
    std::string_view key;
    if (item["key"].get(key) || item["offset"].get(part.offset) || item["length"].get(part.length)) {
      return Error{"a part needs key, offset and length"};
    }
    if (part.offset != expected_offset) return Error{"its parts do not follow each other along the axis"};
    expected_offset += part.length;
    const auto found = find_path(store, directory, key);
    if (!found) return Error{"part " + std::string(key) + " is missing"};
    part.directory = *found;
    const auto zarray = inline_text(store, part.directory, ".zarray");
    if (!zarray) return Error{"part " + std::string(key) + " has no inline .zarray"};
    auto part_meta = common::ArrayMeta::parse(*zarray);
    if (!part_meta) return common::wrap(part_meta.error(), "part " + std::string(key));
    part.meta = std::move(*part_meta);
    if (part.meta.shape.size() != meta.shape.size() || part.meta.shape[axis] != part.length) {
      return Error{"part " + std::string(key) + " does not fit the array's shape"};
    }
    for (std::size_t d = 0; d < meta.shape.size(); ++d) {
      if (d != axis && part.meta.shape[d] != meta.shape[d]) return Error{"part " + std::string(key) + " does not fit"};
    }
    if (part.meta.order != "\"C\"") return Error{"part " + std::string(key) + " is not in C order"};
    auto part_grid = common::ChunkGrid::of(part.meta.shape, part.meta.chunks);
    if (!part_grid) return Error{"part " + std::string(key) + ": its chunk grid is not understood"};
    part.grid = *part_grid;
    auto pipeline = codec::Pipeline::of(part.meta);
    if (!pipeline) return common::wrap(pipeline.error(), "part " + std::string(key));
    part.pipeline = std::make_shared<const codec::Pipeline>(std::move(*pipeline));
    codec::Packing packing;
    if (unpack) {
      const auto zattrs = inline_text(store, part.directory, ".zattrs");
      auto parsed = codec::Packing::of_attributes(zattrs.value_or("{}"), part.meta.fill_value);
      if (!parsed) return common::wrap(parsed.error(), "part " + std::string(key));
      packing = std::move(*parsed);
    }
    auto converter = codec::ElementConverter::make(part.meta.dtype, assembly.meta.dtype, packing);
    if (converter) {
      part.converter = std::move(*converter);
    } else if (unpack || part.meta.dtype != meta.dtype) {
      return common::wrap(converter.error(), "part " + std::string(key));
    }
    auto fill = codec::fill_element(part.meta.dtype, part.meta.fill_value);
    if (!fill) return common::wrap(fill.error(), "part " + std::string(key));
    part.fill = std::move(*fill);
    if (part.converter) {
      std::string shown(assembly.element_size, '\0');
      part.converter->convert(part.fill.data(), shown.data(), 1);
      part.fill = std::move(shown);
    }
    assembly.parts.push_back(std::move(part));
  }
  if (assembly.parts.empty() || expected_offset != meta.shape[axis]) {
    return Error{"its parts do not cover the array along the axis"};
  }
  return assembly;
}

void assemble_chunk(const std::shared_ptr<const Assembly>& assembly, const refstore::RefStore& store,
                    std::uint64_t index, const PartChunk& decoded, ChunkDecoder& decoder, ChunkDecoder::Made done) {
  const Assembly& a = *assembly;
  const std::size_t rank = a.meta.shape.size();
  const auto coordinates = a.grid.coordinates(index);
  std::vector<std::uint64_t> lo(rank), hi(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    lo[d] = coordinates[d] * a.meta.chunks[d];
    hi[d] = std::min(lo[d] + a.meta.chunks[d], a.meta.shape[d]);
  }
  // The files' chunks the output chunk overlaps.
  auto pieces = std::make_shared<std::vector<Piece>>();
  for (const AssemblyPart& part : a.parts) {
    const std::uint64_t start = std::max(lo[a.axis], part.offset);
    const std::uint64_t end = std::min(hi[a.axis], part.offset + part.length);
    if (start >= end) continue;
    std::vector<std::uint64_t> first(rank), last(rank);
    for (std::size_t d = 0; d < rank; ++d) {
      const std::uint64_t from = d == a.axis ? start - part.offset : lo[d];
      const std::uint64_t to = d == a.axis ? end - part.offset : hi[d];
      first[d] = from / part.meta.chunks[d];
      last[d] = (to - 1) / part.meta.chunks[d];
    }
    std::vector<std::uint64_t> at = first;
    for (;;) {
      Piece piece{&part, at, store.lookup(part.directory, common::chunk_key(at)), {}};
      pieces->push_back(std::move(piece));
      std::size_t d = rank;
      while (d-- > 0) {
        if (++at[d] <= last[d]) break;
        at[d] = first[d];
      }
      if (d == static_cast<std::size_t>(-1)) break;
    }
  }
  struct Gathering {
    std::mutex mutex;
    std::size_t waiting = 0;
    std::optional<Error> failure;
  };
  auto gathering = std::make_shared<Gathering>();
  // Once every piece is in: the copying, on a worker.
  auto finish = [assembly, pieces, gathering, lo, hi, &decoder, done = std::move(done)]() {
    decoder.post([assembly, pieces, gathering, lo, hi, done] {
      if (gathering->failure) return done(*gathering->failure);
      std::string out(assembly->chunk_bytes, '\0');
      for (const Piece& piece : *pieces) copy_piece(*assembly, piece, lo, hi, out.data());
      done(std::move(out));
    });
  };
  for (const Piece& piece : *pieces) gathering->waiting += piece.node ? 1 : 0;
  if (gathering->waiting == 0) return finish();
  auto arrived = std::make_shared<decltype(finish)>(std::move(finish));
  for (Piece& piece : *pieces) {
    if (!piece.node) continue;
    decoded(*piece.part, *piece.node, [gathering, arrived, &piece](const Result<fetch::Bytes>& bytes) {
      bool last = false;
      {
        const std::lock_guard lock(gathering->mutex);
        if (bytes) {
          piece.bytes = *bytes;
        } else if (!gathering->failure) {
          gathering->failure = bytes.error();
        }
        last = --gathering->waiting == 0;
      }
      if (last) (*arrived)();
    });
  }
}

}  // namespace kerchunkfs::daemon
