// Internal layout of a RefStore and the builder the parser fills it through.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "refstore/bulk_allocator.h"
#include "refstore/grid_run.h"
#include "refstore/member_table.h"
#include "refstore/path_index.h"
#include "refstore/refstore.h"
#include "refstore/store_target.h"

namespace kerchunkfs::refstore {

inline constexpr std::uint64_t kMaxNodes = 0xfffffff0;
// The parent of a node whose key was given again later: it is in no directory and not indexed.
inline constexpr std::uint32_t kReplacedParent = 0xffffffff;

// Set in a directory's offset_high when its children are the run of ids from offset_low.
inline constexpr std::uint16_t kChildRun = 0x8000;

// 24 bytes: a node with a name of its own (every node but grid run members, which are a Target
// each in the member table). The name's length is implied by where the next node's name starts,
// since names are appended in node order.
struct Node : Target {
  std::uint32_t parent;
  std::uint32_t name_offset;
};
static_assert(sizeof(Node) == 24);

// Node ids count named nodes and grid run members together, in the order of the set's keys; a
// named node is at `nodes[id - members before it]`, a member at `members[run's base + its index]`.
struct Place {
  const GridRun* run;  // the run holding the node, or the last one before it (null: none)
  bool is_member;
  std::size_t index;  // in `members` or in `nodes`
};

struct RefStore::Data {
  BulkVector<Node> nodes;
  MemberTable members;
  std::unordered_set<std::uint64_t> replaced_members;  // by index in `members`: keys given again
  BulkString names;
  std::string inline_bytes;
  std::vector<std::string> urls;
  BulkVector<NodeId> children;
  PathIndex index;                                                      // the named nodes
  std::vector<GridRun> grid_runs;                                       // in node order
  std::unordered_map<NodeId, std::vector<std::uint32_t>> grid_runs_of;  // a directory's, by index
  std::vector<bool> run_has_replaced;                                   // by run index
  std::size_t read_by_threads = 1;

  std::size_t node_count() const { return nodes.size() + members.size(); }
  Place place(NodeId node) const;
  Target target(NodeId node) const;
  bool member_replaced(std::uint64_t index) const {
    return !replaced_members.empty() && replaced_members.contains(index);
  }
  NodeId parent(NodeId node) const;
  Entry entry(const Target& target) const;
  // RefStore::for_each_entry (with_members) and for_each_named_entry.
  void visit_entries(const std::function<void(NodeId, const Entry&)>& visit, bool with_members) const;
  void replace(NodeId node);
  // The name of the named node at `index` in `nodes`.
  std::string_view stored_name(std::size_t index) const {
    const std::size_t end = index + 1 < nodes.size() ? nodes[index + 1].name_offset : names.size();
    return std::string_view(names).substr(nodes[index].name_offset, end - nodes[index].name_offset);
  }
  std::string name(NodeId node) const;
  // The member of one of the directory's grid runs with this name that is still in the tree.
  std::optional<NodeId> live_grid_member(NodeId parent, std::string_view child) const;
  std::optional<NodeId> lookup(NodeId parent, std::string_view child) const;
  std::string key(NodeId node) const;

  // Visits the nodes after the root in node order: named(node, index) for each named node
  // (`index`: its place in `nodes`), run(r) for each grid run, whose members it passes over.
  // `count` is the node count (a builder's members may have been handed on already).
  template <class Named, class Run>
  void walk(NodeId count, Named&& named, Run&& run) const {
    NodeId node = 1;
    std::size_t index = 1;
    for (std::size_t r = 0; r <= grid_runs.size(); ++r) {
      const NodeId end = r < grid_runs.size() ? grid_runs[r].first() : count;
      for (; node < end; ++node, ++index) named(node, index);
      if (r == grid_runs.size()) break;
      run(r);
      node = grid_runs[r].first() + grid_runs[r].count();
    }
  }
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
  // add_file(key) and set_range() for the usual key of a large set, quicker: when the file added
  // last is the open grid run's last member and `key` is its key with the last digit one higher.
  // Otherwise adds nothing and returns false.
  [[nodiscard]] bool add_next_chunk(std::string_view key, std::uint32_t url, std::uint64_t offset,
                                    std::uint64_t length);
  // The setters give the file added last its bytes.
  void set_inline(std::string_view bytes);
  // Appends to the inline arena; `set_inline_from` then takes what was appended since `start`.
  std::string& inline_arena() { return data_->inline_bytes; }
  void set_inline_from(std::size_t start);
  void set_range(std::uint32_t url, std::uint64_t offset, std::uint64_t length);
  void set_whole_file(std::uint32_t url);
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

  NodeId next_id();                                                // the id the next node gets, counted
  std::optional<ChunkCoords> chunk_coords(std::string_view name);  // parse_chunk_name, quicker
  // The target of the node added last (a member stays unpacked until more follow).
  Target& last_target() { return last_is_member_ ? data_->members.back() : data_->nodes.back(); }
  NodeId add_node(NodeId parent, std::string_view name, std::uint32_t target);
  // A file whose name is chunk coordinates: a member of the open grid run when it follows it,
  // else the first of a new one. `name` is the name as given.
  NodeId add_grid_member(NodeId parent, const ChunkCoords& coords, std::string_view name, std::uint32_t target);
  // Ends the open grid run (the last of data_->grid_runs): kept when long enough, else (when its
  // members are the member table's last) its members get names.
  void close_grid_run();
  // Takes another builder's grid run whose members were adopted (at `members_before`) into our
  // table: it continues our open run as far as it can, the rest become runs of ours.
  void adopt_grid_run(const GridRun& theirs, NodeId parent, std::uint64_t members_before);
  NodeId directory(std::string_view path, std::string_view key);
  void resolve_grid_duplicates();
  void build_index();
  void build_children();

  std::unique_ptr<RefStore::Data> data_;
  std::uint64_t max_nodes_;
  std::unordered_map<std::string, NodeId, PathHash, std::equal_to<>> directories_;  // by full path
  NodeId node_count_ = 0;
  // The chunk name read last and its coordinates (at most 8 numbers of 10 digits and 7 dots).
  std::array<char, kMaxGridDims * 11> previous_chunk_name_{};
  std::size_t previous_chunk_name_size_ = 0;
  ChunkCoords previous_chunk_coords_;
  // The key of the open grid run's last member when add_file or add_next_chunk added it last
  // (empty after append: members added otherwise).
  std::string previous_member_key_;
  bool grid_run_open_ = false;  // data_->grid_runs.back() takes members
  bool last_is_member_ = false;
  std::optional<std::string> last_directory_;
  NodeId last_directory_node_ = kRootNode;
  std::unordered_map<std::string, std::uint32_t, PathHash, std::equal_to<>> url_ids_;
  std::string last_url_;
  std::uint32_t last_url_id_ = 0;
  std::optional<std::uint32_t> null_url_;
  std::string first_null_key_;
};

}  // namespace kerchunkfs::refstore
