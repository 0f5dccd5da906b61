// Internal layout of a RefStore and the builder the parser fills it through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "refstore/bulk_allocator.h"
#include "refstore/grid_run.h"
#include "refstore/path_index.h"
#include "refstore/refstore.h"

namespace kerchunkfs::refstore {

inline constexpr std::uint32_t kDirectoryTarget = 0xffffffff;
inline constexpr std::uint32_t kInlineTarget = 0xfffffffe;
inline constexpr std::uint32_t kMaxUrls = 0xfffffffd;
// Offsets and lengths are 48-bit (256 TiB); the largest value marks a whole-file reference.
inline constexpr std::uint64_t kMaxField = (std::uint64_t{1} << 48) - 1;
inline constexpr std::uint64_t kWholeFileLength = kMaxField;
inline constexpr std::uint64_t kMaxNodes = 0xfffffff0;
// The parent of a node whose key was given again later: it is in no directory and not indexed.
inline constexpr std::uint32_t kReplacedParent = 0xffffffff;

// Set in a directory's offset_high when its children are the run of ids from offset_low.
inline constexpr std::uint16_t kChildRun = 0x8000;

// 24 bytes. A directory keeps in offset/length its children: a run of consecutive ids (first id in
// offset_low, kChildRun set) or a range of the `children` list; an inline file keeps its range
// in the inline arena there. The name's length is implied by where the next
// node's name starts, since names are appended in node order; a member of a grid run has no
// name there (an empty one): its run gives it.
struct Node {
  std::uint32_t parent;
  std::uint32_t name_offset;
  std::uint32_t target;  // URL index, kInlineTarget or kDirectoryTarget
  std::uint16_t offset_high;
  std::uint16_t length_high;
  std::uint32_t offset_low;
  std::uint32_t length_low;

  std::uint64_t offset() const { return (std::uint64_t{offset_high} << 32) | offset_low; }
  std::uint64_t length() const { return (std::uint64_t{length_high} << 32) | length_low; }
  void set_offset(std::uint64_t value) {
    offset_high = static_cast<std::uint16_t>(value >> 32);
    offset_low = static_cast<std::uint32_t>(value);
  }
  void set_length(std::uint64_t value) {
    length_high = static_cast<std::uint16_t>(value >> 32);
    length_low = static_cast<std::uint32_t>(value);
  }
};
static_assert(sizeof(Node) == 24);

struct RefStore::Data {
  BulkVector<Node> nodes;
  BulkString names;
  std::string inline_bytes;
  std::vector<std::string> urls;
  BulkVector<NodeId> children;
  PathIndex index;                                                      // every node but the members of grid runs
  std::vector<GridRun> grid_runs;                                       // in node order
  std::unordered_map<NodeId, std::vector<std::uint32_t>> grid_runs_of;  // a directory's, by index
  std::size_t read_by_threads = 1;

  // The name as the names arena holds it: empty for a member of a grid run.
  std::string_view stored_name(NodeId node) const {
    const std::size_t end = node + 1 < nodes.size() ? nodes[node + 1].name_offset : names.size();
    return std::string_view(names).substr(nodes[node].name_offset, end - nodes[node].name_offset);
  }
  const GridRun* grid_run_of(NodeId node) const;
  std::string name(NodeId node) const;
  // The member of one of the directory's grid runs with this name that is still in the tree.
  std::optional<NodeId> live_grid_member(NodeId parent, std::string_view child) const;
  std::optional<NodeId> lookup(NodeId parent, std::string_view child) const;
  std::string key(NodeId node) const;
};

// Quotes a key for a one-line error message: control and non-ASCII bytes become \xNN.
std::string quote(std::string_view text);

class StoreBuilder {
 public:
  // More than `max_nodes` keys and directories are refused (LoadOptions::max_keys). The
  // expected sizes are reserved (address space, not memory) so that the arrays never move.
  StoreBuilder(std::size_t expected_nodes, std::size_t expected_name_bytes, std::uint64_t max_nodes);

  // A new file node for `key`, creating its directories. Parsing only appends; keys given twice
  // and file/directory clashes are resolved in finish(), where the last definition wins, as in
  // fsspec.
  NodeId add_file(std::string_view key);
  void set_inline(NodeId node, std::string_view bytes);
  // Appends to the inline arena; `set_inline_from` then takes what was appended since `start`.
  std::string& inline_arena() { return data_->inline_bytes; }
  void set_inline_from(NodeId node, std::size_t start);
  void set_range(NodeId node, std::uint32_t url, std::uint64_t offset, std::uint64_t length);
  void set_whole_file(NodeId node, std::uint32_t url);
  std::uint32_t intern_url(std::string_view url);
  // The URL index meaning "the default target"; `key` is remembered for the error if none is set.
  std::uint32_t null_url(std::string_view key);

  // Appends what another builder read from a later part of the same set, as if this one had
  // read it: its directories are merged with ours, its nodes follow in their order, its URLs
  // and inline bytes are renumbered.
  void append(StoreBuilder&& later);

  RefStore finish(const LoadOptions& options);

 private:
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view path) const { return std::hash<std::string_view>{}(path); }
  };

  NodeId push_node(NodeId parent, std::uint32_t target);
  NodeId add_node(NodeId parent, std::string_view name, std::uint32_t target);
  // A file whose name is chunk coordinates: a member of the open grid run when it follows it,
  // else the first of a new one. `name` is the name as given, or empty to spell `coords`.
  NodeId add_grid_member(NodeId parent, const ChunkCoords& coords, std::string_view name, std::uint32_t target);
  // Ends the open grid run: kept when long enough, else its members get their names.
  void close_grid_run();
  NodeId directory(std::string_view path, std::string_view key);
  void resolve_grid_duplicates();
  void build_index();
  void build_children();

  std::unique_ptr<RefStore::Data> data_;
  std::uint64_t max_nodes_;
  std::unordered_map<std::string, NodeId, PathHash, std::equal_to<>> directories_;  // by full path
  std::optional<GridRun> open_grid_run_;
  std::optional<std::string> last_directory_;
  NodeId last_directory_node_ = kRootNode;
  std::unordered_map<std::string, std::uint32_t, PathHash, std::equal_to<>> url_ids_;
  std::string last_url_;
  std::uint32_t last_url_id_ = 0;
  std::optional<std::uint32_t> null_url_;
  std::string first_null_key_;
};

}  // namespace kerchunkfs::refstore
