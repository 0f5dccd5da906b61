#include "sources/hdf5/chunk_index.h"

#include <cstring>

#include "sources/hdf5/hdf5_handle.h"

namespace kerchunkfs::sources {
namespace {

constexpr std::uint16_t kLayoutMessage = 0x0008;
constexpr std::uint16_t kContinuationMessage = 0x0010;
constexpr std::size_t kMaxNodes = 1 << 26;  // bounds the walk of a damaged file

// Little-endian reads from the file at absolute positions.
class Reader {
 public:
  Reader(FileBytes& file, std::uint64_t base, unsigned address_size)
      : file_(file), base_(base), address_size_(address_size) {}

  bool read(std::uint64_t address, std::size_t size, std::string& out) {
    // A damaged header can claim any size: nothing beyond the file is asked for.
    if (base_ + address > file_.size() || size > file_.size() - base_ - address) return false;
    out.resize(size);
    return file_.read(base_ + address, size, out.data());
  }
  unsigned address_size() const { return address_size_; }

 private:
  FileBytes& file_;
  std::uint64_t base_;
  unsigned address_size_;
};

std::uint64_t little(const std::string& bytes, std::size_t at, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size && at + i < bytes.size(); ++i) {
    value |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  }
  return value;
}

bool undefined(std::uint64_t address, unsigned size) {
  return size == 8 ? address == UINT64_MAX : address == (std::uint64_t{1} << (8 * size)) - 1;
}

// The layout message of the object header at `address` (versions 1 and 2, with continuations).
std::optional<std::string> layout_message(Reader& reader, std::uint64_t address) {
  struct Block {
    std::uint64_t address, length;
  };
  std::string prefix;
  if (!reader.read(address, 16, prefix)) return std::nullopt;
  const bool version2 = prefix.compare(0, 4, "OHDR") == 0;
  std::vector<Block> blocks;
  unsigned flags = 0;
  if (version2) {
    flags = static_cast<unsigned char>(prefix[5]);
    std::size_t at = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    const std::size_t width = std::size_t{1} << (flags & 3);
    std::string header;
    if (!reader.read(address, at + width, header)) return std::nullopt;
    blocks.push_back({address + at + width, little(header, at, width)});
  } else {
    if (prefix[0] != 1) return std::nullopt;
    blocks.push_back({address + 16, little(prefix, 8, 4)});
  }
  for (std::size_t b = 0; b < blocks.size() && b < 1024; ++b) {
    std::string data;
    if (!reader.read(blocks[b].address, blocks[b].length, data)) return std::nullopt;
    std::size_t at = version2 && b > 0 ? 4 : 0;                        // "OCHK"
    const std::size_t end = version2 ? data.size() - 4 : data.size();  // checksum
    while (at + (version2 ? 4 : 8) <= end) {
      std::uint16_t type;
      std::size_t size, header;
      if (version2) {
        type = static_cast<unsigned char>(data[at]);
        size = little(data, at + 1, 2);
        header = 4 + ((flags & 0x04) ? 2 : 0);
      } else {
        type = static_cast<std::uint16_t>(little(data, at, 2));
        size = little(data, at + 2, 2);
        header = 8;
      }
      if (at + header + size > data.size()) return std::nullopt;
      const std::string body = data.substr(at + header, size);
      if (type == kLayoutMessage) return body;
      if (type == kContinuationMessage) {
        const unsigned a = reader.address_size();
        blocks.push_back({little(body, 0, a), little(body, a, 8)});
      }
      at += header + size;
      if (!version2) at = (at + 7) / 8 * 8;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<ChunkLocation>> read_v1_btree_chunks(FileBytes& file, hid_t dataset, int rank) {
  const Handle file_id(H5Iget_file_id(dataset), H5Fclose);
  const Handle create(H5Fget_create_plist(file_id.get()), H5Pclose);
  std::size_t address_size = 0, length_size = 0;
  hsize_t userblock = 0;
  H5O_info_t info{};
  if (H5Pget_sizes(create.get(), &address_size, &length_size) < 0 || H5Pget_userblock(create.get(), &userblock) < 0 ||
      H5Oget_info2(dataset, &info, H5O_INFO_BASIC) < 0 || address_size < 2 || address_size > 8) {
    return std::nullopt;
  }
  Reader reader(file, userblock, static_cast<unsigned>(address_size));
  const auto layout = layout_message(reader, info.addr);
  // Version 3, class 2 (chunked): dimensionality (rank + 1), then the B-tree's address.
  if (!layout || layout.value().size() < 3 + address_size || layout.value()[0] != 3 || layout.value()[1] != 2 ||
      static_cast<unsigned char>(layout.value()[2]) != rank + 1) {
    return std::nullopt;
  }
  std::vector<ChunkLocation> chunks;
  const std::uint64_t root = little(*layout, 3, address_size);
  if (undefined(root, static_cast<unsigned>(address_size))) return chunks;  // nothing written yet

  const std::size_t key_size = 8 + 8 * static_cast<std::size_t>(rank + 1);
  const std::size_t head = 8 + 2 * address_size;
  unsigned k = 32;  // half a node's capacity: the file's own setting, or the format's default
  if (H5Pget_istore_k(create.get(), &k) < 0 || k == 0) k = 32;
  const std::uint64_t node_bytes = head + 2 * std::uint64_t{k} * (key_size + address_size) + key_size;
  // Level by level, so that a remote file fetches each level's nodes at once.
  std::vector<std::uint64_t> level{root};
  std::size_t visited = 0;
  std::string node;
  while (!level.empty()) {
    std::vector<ByteRange> ranges;
    ranges.reserve(level.size());
    for (const std::uint64_t address : level) ranges.push_back({userblock + address, node_bytes});
    file.prefetch(ranges);
    std::vector<std::uint64_t> next;
    for (const std::uint64_t address : level) {
      if (++visited > kMaxNodes) return std::nullopt;
      if (!reader.read(address, head, node) || node.compare(0, 4, "TREE") != 0 || node[4] != 1) return std::nullopt;
      const unsigned depth = static_cast<unsigned char>(node[5]);
      const std::size_t entries = little(node, 6, 2);
      if (!reader.read(address + head, entries * (key_size + address_size) + key_size, node)) return std::nullopt;
      for (std::size_t i = 0; i < entries; ++i) {
        const std::size_t key = i * (key_size + address_size);
        const std::uint64_t child = little(node, key + key_size, address_size);
        if (depth > 0) {
          next.push_back(child);
          continue;
        }
        ChunkLocation chunk;
        chunk.size = little(node, key, 4);
        chunk.filter_mask = static_cast<std::uint32_t>(little(node, key + 4, 4));
        for (int d = 0; d < rank; ++d) chunk.offset.push_back(little(node, key + 8 + 8 * d, 8));
        chunk.address = userblock + child;  // addresses count from the superblock, after any user block
        chunks.push_back(std::move(chunk));
      }
    }
    level = std::move(next);
  }
  return chunks;
}

}  // namespace kerchunkfs::sources
