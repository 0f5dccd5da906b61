#include "refstore/refstore.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "refstore/load_error.h"
#include "refstore/store_data.h"

namespace kerchunkfs::refstore {
namespace {

constexpr std::size_t kMaxNameBytes = 255;  // NAME_MAX: what the kernel lets one path segment be
constexpr std::size_t kMaxKeyBytes = 4095;  // PATH_MAX less its NUL: what the kernel lets a path be
// A grid run costs about 120 bytes and saves about 20 a member; a directory keeps a few, so a
// lookup tries a few (a set in another order than C order breaks runs up: it keeps names).
constexpr std::uint32_t kMinGridRun = 16;
constexpr std::size_t kMaxGridRunsPerDirectory = 4;

void check_segment(std::string_view segment, std::string_view key) {
  const char* problem = nullptr;
  if (segment.empty()) {
    problem = key.empty() ? "empty key" : "empty path segment (leading, trailing or doubled '/')";
  } else if (segment == "." || segment == "..") {
    problem = "'.' and '..' path segments are not allowed";
  } else if (segment.find('\0') != std::string_view::npos) {
    problem = "NUL byte in key";
  } else if (segment.size() > kMaxNameBytes) {
    problem = "path segment longer than 255 bytes";
  }
  if (problem != nullptr) throw LoadError("key " + quote(key) + ": " + problem);
}

bool is_relative_path(std::string_view url) {
  return url.find("://") == std::string_view::npos && !url.empty() && url.front() != '/';
}

}  // namespace

std::string resolve_target(std::string url, std::string_view relative_base, std::string_view remote_protocol) {
  if (!is_relative_path(url)) return url;
  return remote_protocol.empty() ? std::string(relative_base) + "/" + url : std::string(remote_protocol) + "://" + url;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Place RefStore::Data::place(NodeId node) const {
  const auto after = std::upper_bound(grid_runs.begin(), grid_runs.end(), node,
                                      [](NodeId id, const GridRun& run) { return id < run.first(); });
  if (after == grid_runs.begin()) return {nullptr, false, node};
  const GridRun& run = *std::prev(after);
  if (run.contains_node(node)) return {&run, true, run.member_index(node)};
  return {&run, false, node - (run.members_before() + run.count())};
}

Target RefStore::Data::target(NodeId node) const {
  const Place at = place(node);
  return at.is_member ? members[at.index] : static_cast<const Target&>(nodes[at.index]);
}

NodeId RefStore::Data::parent(NodeId node) const {
  const Place at = place(node);
  if (!at.is_member) return nodes[at.index].parent;
  return member_replaced(at.index) ? kReplacedParent : at.run->parent();
}

void RefStore::Data::replace(NodeId node) {
  const Place at = place(node);
  if (at.is_member) {
    replaced_members.insert(at.index);
    run_has_replaced[static_cast<std::size_t>(at.run - grid_runs.data())] = true;
  } else {
    nodes[at.index].parent = kReplacedParent;
  }
}

std::string RefStore::Data::name(NodeId node) const {
  const Place at = place(node);
  if (at.is_member) return format_chunk_name(at.run->coords_of(node - at.run->first()));
  return std::string(stored_name(at.index));
}

std::optional<NodeId> RefStore::Data::live_grid_member(NodeId parent, std::string_view child) const {
  if (grid_runs_of.empty()) return std::nullopt;
  const auto runs = grid_runs_of.find(parent);
  if (runs == grid_runs_of.end()) return std::nullopt;
  const auto coords = parse_chunk_name(child);
  if (!coords) return std::nullopt;
  for (const std::uint32_t index : runs->second) {
    const GridRun& run = grid_runs[index];
    const auto member = run.index_of(*coords);
    if (member && !member_replaced(run.members_before() + *member)) return run.first() + *member;
  }
  return std::nullopt;
}

std::optional<NodeId> RefStore::Data::lookup(NodeId parent, std::string_view child) const {
  if (const auto member = live_grid_member(parent, child)) return member;
  return index.find(path_hash(parent, child), [&](std::uint32_t node) {
    const std::size_t at = place(node).index;  // the index holds named nodes only
    return nodes[at].parent == parent && stored_name(at) == child;
  });
}

std::string RefStore::Data::key(NodeId node) const {
  std::vector<std::string> segments;
  // A replaced node hangs off no directory: its key is its own name.
  for (; node != kRootNode && node != kReplacedParent; node = parent(node)) segments.push_back(name(node));
  std::string key;
  for (auto segment = segments.rbegin(); segment != segments.rend(); ++segment) {
    if (!key.empty()) key += '/';
    key += *segment;
  }
  return key;
}

StoreBuilder::StoreBuilder(std::size_t expected_nodes, std::size_t expected_name_bytes, std::uint64_t max_nodes)
    : data_(std::make_unique<RefStore::Data>()), max_nodes_(std::min<std::uint64_t>(max_nodes, kMaxNodes)) {
  // Reserving untouched capacity costs address space, not resident memory, and saves the copies
  // of growing by doubling.
  const std::size_t expected = std::min<std::uint64_t>(expected_nodes, max_nodes_) + 1;
  data_->nodes.reserve(expected);
  data_->members.reserve(expected);
  data_->names.reserve(std::min<std::size_t>(expected_name_bytes, std::numeric_limits<std::uint32_t>::max()));
  data_->nodes.push_back(Node{{kDirectoryTarget, 0, 0, 0, 0}, kRootNode, 0});
  node_count_ = 1;
}

NodeId StoreBuilder::next_id() {
  if (node_count_ > max_nodes_) {
    throw LoadError("more than " + std::to_string(max_nodes_) + " keys and directories (the limit; see max_keys)");
  }
  return node_count_++;
}

NodeId StoreBuilder::add_node(NodeId parent, std::string_view name, std::uint32_t target) {
  close_grid_run();
  const NodeId id = next_id();
  data_->nodes.push_back(Node{{target, 0, 0, 0, 0}, parent, static_cast<std::uint32_t>(data_->names.size())});
  data_->names.append(name);
  last_is_member_ = false;
  return id;
}

NodeId StoreBuilder::add_grid_member(NodeId parent, const ChunkCoords& coords, std::string_view name,
                                     std::uint32_t target) {
  auto& data = *data_;
  if (!grid_run_open_ || data.grid_runs.back().parent() != parent || !data.grid_runs.back().extend(coords)) {
    close_grid_run();
    const auto kept = data.grid_runs_of.find(parent);
    if (kept != data.grid_runs_of.end() && kept->second.size() >= kMaxGridRunsPerDirectory) {
      return add_node(parent, name, target);
    }
    data.grid_runs.emplace_back(node_count_, parent, coords, data.members.size());
    grid_run_open_ = true;
  }
  const NodeId id = next_id();
  data.members.push_back(Target{target, 0, 0, 0, 0});
  last_is_member_ = true;
  return id;
}

void StoreBuilder::close_grid_run() {
  if (!grid_run_open_) return;
  grid_run_open_ = false;
  auto& data = *data_;
  const GridRun run = data.grid_runs.back();
  const bool members_last =
      run.members_before() + run.count() == data.members.size() && data.members.in_last_segment(run.members_before());
  if (run.count() >= kMinGridRun || !members_last) {
    data.grid_runs_of[run.parent()].push_back(static_cast<std::uint32_t>(data.grid_runs.size() - 1));
    return;
  }
  // Too short to pay for itself: its members become named nodes. They are the last nodes, so
  // their names can still go to the arena's end.
  data.grid_runs.pop_back();
  std::vector<Target> values(run.count());
  for (std::uint32_t i = run.count(); i-- > 0;) {
    values[i] = data.members.back();
    data.members.pop_back();
  }
  ChunkCoords coords = run.start();
  for (std::uint32_t i = 0; i < run.count(); ++i, run.advance(coords)) {
    data.nodes.push_back(Node{values[i], run.parent(), static_cast<std::uint32_t>(data.names.size())});
    data.names.append(format_chunk_name(coords));
  }
  last_is_member_ = false;
}

void StoreBuilder::adopt_grid_run(const GridRun& theirs, NodeId parent, std::uint64_t members_before) {
  auto& data = *data_;
  last_is_member_ = true;
  std::uint32_t taken = 0;
  ChunkCoords coords = theirs.start();
  if (grid_run_open_ && data.grid_runs.back().parent() == parent) {
    // Where the other builder began, its first run may go on with ours.
    while (taken < theirs.count() && data.grid_runs.back().extend(coords)) {
      next_id();
      ++taken;
      theirs.advance(coords);
    }
    if (taken == theirs.count()) return;
  }
  close_grid_run();
  if (taken == 0) {
    if (node_count_ + std::uint64_t{theirs.count()} > max_nodes_ + 1) {
      node_count_ = max_nodes_ + 1;
      next_id();  // throws
    }
    data.grid_runs.push_back(theirs.rebased(node_count_, parent, members_before));
    node_count_ += theirs.count();
    grid_run_open_ = true;
    return;
  }
  // The rest of a run ours ended (its extents disagreed): runs of its own, as one builder makes.
  while (taken < theirs.count()) {
    close_grid_run();
    data.grid_runs.emplace_back(next_id(), parent, coords, members_before + taken);
    grid_run_open_ = true;
    for (++taken, theirs.advance(coords); taken < theirs.count() && data.grid_runs.back().extend(coords);
         ++taken, theirs.advance(coords)) {
      next_id();
    }
  }
}

NodeId StoreBuilder::directory(std::string_view path, std::string_view key) {
  // Keys of one array arrive together, so the previous key's directory is usually this one.
  if (last_directory_ && path == *last_directory_) return last_directory_node_;
  NodeId node = kRootNode;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = path.find('/', start);
    const std::string_view prefix = path.substr(0, end);
    const auto found = directories_.find(prefix);
    if (found != directories_.end()) {
      node = found->second;
    } else {
      const std::string_view segment = prefix.substr(start);
      check_segment(segment, key);
      node = add_node(node, segment, kDirectoryTarget);
      directories_.emplace(prefix, node);
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  last_directory_.emplace(path);
  last_directory_node_ = node;
  return node;
}

NodeId StoreBuilder::add_file(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    throw LoadError("key " + quote(key.substr(0, 60)) + "...: longer than " + std::to_string(kMaxKeyBytes) +
                    " bytes (PATH_MAX): no program could open it");
  }
  const std::size_t slash = key.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  // A chunk name is a good path segment.
  const auto coords = chunk_coords(name);
  if (!coords) check_segment(name, key);
  const NodeId parent = slash == std::string_view::npos ? kRootNode : directory(key.substr(0, slash), key);
  if (!coords) return add_node(parent, name, kInlineTarget);
  const NodeId id = add_grid_member(parent, *coords, name, kInlineTarget);
  if (last_is_member_) previous_member_key_.assign(key);
  return id;
}

bool StoreBuilder::add_next_chunk(std::string_view key, std::uint32_t url, std::uint64_t offset, std::uint64_t length) {
  // What add_file would find, in a few comparisons: the same directory, a chunk name whose last
  // coordinate is one higher (no carry), the open run it extends.
  const std::string_view previous = previous_member_key_;
  if (!last_is_member_ || !grid_run_open_ || key.size() != previous.size() || key.empty()) return false;
  const char last = key.back();
  if (last < '1' || last > '9' || last != previous.back() + 1 ||
      std::memcmp(key.data(), previous.data(), key.size() - 1) != 0 || !data_->grid_runs.back().extend_last()) {
    return false;
  }
  next_id();
  previous_member_key_.back() = last;
  previous_chunk_name_[previous_chunk_name_size_ - 1] = last;
  ++previous_chunk_coords_.values[previous_chunk_coords_.dims - 1];
  Target target{url, 0, 0, 0, 0};
  target.set_offset(offset);
  target.set_length(length);
  data_->members.push_back(target);
  return true;
}

std::optional<ChunkCoords> StoreBuilder::chunk_coords(std::string_view name) {
  // Keys mostly count up in their last coordinate: a name that is the previous one with its
  // last digit one higher (no carry) has its coordinates with the last one higher.
  const std::string_view previous(previous_chunk_name_.data(), previous_chunk_name_size_);
  if (!name.empty() && name.size() == previous.size() && name.back() >= '1' && name.back() <= '9' &&
      name.back() == previous.back() + 1 && name.substr(0, name.size() - 1) == previous.substr(0, name.size() - 1) &&
      previous_chunk_coords_.values[previous_chunk_coords_.dims - 1] < kMaxChunkCoordinate) {
    ++previous_chunk_coords_.values[previous_chunk_coords_.dims - 1];
  } else if (auto coords = parse_chunk_name(name)) {
    previous_chunk_coords_ = *coords;
  } else {
    return std::nullopt;
  }
  std::copy(name.begin(), name.end(), previous_chunk_name_.begin());  // a chunk name is short
  previous_chunk_name_size_ = name.size();
  return previous_chunk_coords_;
}

void StoreBuilder::set_inline(std::string_view bytes) {
  const std::size_t start = data_->inline_bytes.size();
  data_->inline_bytes.append(bytes);
  set_inline_from(start);
}

void StoreBuilder::set_inline_from(std::size_t start) {
  Target& t = last_target();
  t.target = kInlineTarget;
  t.set_offset(start);
  t.set_length(data_->inline_bytes.size() - start);
}

void StoreBuilder::set_range(std::uint32_t url, std::uint64_t offset, std::uint64_t length) {
  Target& t = last_target();
  t.target = url;
  t.set_offset(offset);
  t.set_length(length);
}

void StoreBuilder::set_whole_file(std::uint32_t url) { set_range(url, 0, kWholeFileLength); }

std::uint32_t StoreBuilder::intern_url(std::string_view url) {
  // Neighbouring references usually point into the same file.
  if (!data_->urls.empty() && url == last_url_) return last_url_id_;
  const auto [it, inserted] = url_ids_.try_emplace(std::string(url), static_cast<std::uint32_t>(data_->urls.size()));
  if (inserted) {
    if (data_->urls.size() >= kMaxUrls) throw LoadError("too many distinct URLs");
    data_->urls.emplace_back(url);
  }
  last_url_.assign(url);
  last_url_id_ = it->second;
  return it->second;
}

std::uint32_t StoreBuilder::null_url(std::string_view key) {
  if (!null_url_) {
    null_url_ = static_cast<std::uint32_t>(data_->urls.size());
    data_->urls.emplace_back();
    first_null_key_.assign(key);
  }
  return *null_url_;
}

void StoreBuilder::append(StoreBuilder&& later) {
  later.close_grid_run();
  previous_member_key_.clear();  // the runs adopted below end with members of theirs
  RefStore::Data& from = *later.data_;
  auto& data = *data_;
  // URLs numbered in the order the later part first used them, after ours: as one builder would.
  std::vector<std::uint32_t> urls(from.urls.size());
  for (std::uint32_t url = 0; url < from.urls.size(); ++url) {
    urls[url] = later.null_url_ == url ? null_url(later.first_null_key_) : intern_url(from.urls[url]);
  }
  const std::uint64_t inline_base = data.inline_bytes.size();
  data.inline_bytes.append(from.inline_bytes);
  data.read_by_threads += from.read_by_threads;
  // Their grid run members, most of what they read, join our table where they are: no copy,
  // only their URLs and inline ranges renumbered. They follow ours, as their nodes do.
  const std::uint64_t members_base = data.members.size();
  from.members.renumber(urls, inline_base);
  data.members.adopt(std::move(from.members));
  std::unordered_map<NodeId, NodeId> directories{{kRootNode, kRootNode}};  // theirs to ours
  NodeId their_parent = kRootNode;  // neighbours share a directory: the last one found is kept
  NodeId our_parent = kRootNode;
  const auto ours = [&](NodeId parent) {
    if (parent != their_parent) {
      their_parent = parent;
      our_parent = directories.at(parent);
    }
    return our_parent;
  };
  // Their named nodes are added one by one, their runs as they are, in node order.
  from.walk(
      later.node_count_,
      [&](NodeId node, std::size_t index) {
        const Node& theirs = from.nodes[index];
        if (theirs.target == kDirectoryTarget) {
          const std::string path = from.key(node);
          directories.emplace(node, directory(path, path));
          return;
        }
        const bool is_inline = theirs.target == kInlineTarget;
        add_node(ours(theirs.parent), from.stored_name(index), is_inline ? kInlineTarget : urls[theirs.target]);
        Target& added = last_target();
        added.set_offset(is_inline ? inline_base + theirs.offset() : theirs.offset());
        added.set_length(theirs.length());
      },
      [&](std::size_t r) {
        const GridRun& run = from.grid_runs[r];
        adopt_grid_run(run, ours(run.parent()), members_base + run.members_before());
      });
}

RefStore StoreBuilder::finish(const LoadOptions& options) {
  auto& data = *data_;
  if (null_url_) {
    if (!options.default_target) {
      throw LoadError("key " + quote(first_null_key_) +
                      ": the reference has a null URL and no default target was given");
    }
    data.urls[*null_url_] = *options.default_target;
  }
  for (std::string& url : data.urls)
    url = resolve_target(std::move(url), options.relative_base, options.remote_protocol);
  directories_.clear();
  url_ids_.clear();
  close_grid_run();
  data.run_has_replaced.assign(data.grid_runs.size(), false);
  resolve_grid_duplicates();
  build_index();
  build_children();
  return RefStore(std::move(data_));
}

void StoreBuilder::resolve_grid_duplicates() {
  // A key given twice where one or both definitions are grid run members: as for the keys the
  // index holds (build_index), the later stands and a key that is also a directory is refused.
  auto& data = *data_;
  if (data.grid_runs.empty()) return;
  const auto replace_earlier = [&](NodeId a, NodeId b) {
    const bool a_is_directory = data.target(a).target == kDirectoryTarget;
    if (a_is_directory || data.target(b).target == kDirectoryTarget) {
      throw LoadError("key " + quote(data.key(a_is_directory ? b : a)) + " is both a file and a directory");
    }
    data.replace(std::min(a, b));
  };
  for (const auto& [directory, runs] : data.grid_runs_of) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      for (std::size_t j = i + 1; j < runs.size(); ++j) {
        const GridRun& earlier = data.grid_runs[runs[i]];
        const GridRun& later = data.grid_runs[runs[j]];
        if (earlier.disjoint(later)) continue;
        ChunkCoords coords = earlier.start();
        for (std::uint32_t k = 0; k < earlier.count(); ++k, earlier.advance(coords)) {
          if (const auto member = later.index_of(coords)) replace_earlier(earlier.first() + k, later.first() + *member);
        }
      }
    }
  }
  // Named nodes in directories with runs.
  data.walk(
      node_count_,
      [&](NodeId node, std::size_t index) {
        const auto runs = data.grid_runs_of.find(data.nodes[index].parent);
        if (runs == data.grid_runs_of.end()) return;
        const auto coords = parse_chunk_name(data.stored_name(index));
        if (!coords) return;
        for (const std::uint32_t run : runs->second) {
          if (const auto member = data.grid_runs[run].index_of(*coords)) {
            replace_earlier(node, data.grid_runs[run].first() + *member);
          }
        }
      },
      [](std::size_t /*run*/) {});
}

void StoreBuilder::build_index() {
  auto& data = *data_;
  // Every node but the root and grid run members.
  std::vector<std::pair<NodeId, NodeId>> named;
  NodeId begin = 1;
  for (const GridRun& run : data.grid_runs) {
    if (begin < run.first()) named.emplace_back(begin, run.first());
    begin = run.first() + run.count();
  }
  if (begin < node_count_) named.emplace_back(begin, node_count_);
  data.index = PathIndex::build(
      named,
      [&](std::uint32_t node) {
        const std::size_t at = data.place(node).index;
        return path_hash(data.nodes[at].parent, data.stored_name(at));
      },
      [&](std::uint32_t a, std::uint32_t b) {
        const std::size_t at_a = data.place(a).index;
        const std::size_t at_b = data.place(b).index;
        return data.nodes[at_a].parent == data.nodes[at_b].parent && data.stored_name(at_a) == data.stored_name(at_b);
      },
      [&](std::uint32_t earlier, std::uint32_t later) {
        // Directories are created once each, so a clash involving one is a key that is also a
        // directory; two files are a key given twice, and the later one stands.
        const bool earlier_is_directory = data.target(earlier).target == kDirectoryTarget;
        if (earlier_is_directory || data.target(later).target == kDirectoryTarget) {
          throw LoadError("key " + quote(data.key(earlier_is_directory ? later : earlier)) +
                          " is both a file and a directory");
        }
        data.replace(earlier);
      });
}

void StoreBuilder::build_children() {
  // One pass in node order, so children are in key order. A set lists an array's keys together,
  // so a directory's children are mostly consecutive ids: such a run is kept as its first id and
  // count, at no memory per child (a grid run's members are added at once). A directory whose
  // run breaks gets a list.
  auto& data = *data_;
  std::unordered_map<NodeId, std::vector<NodeId>> lists;
  NodeId listed = kReplacedParent;  // the directory of the list used last
  std::vector<NodeId>* list = nullptr;
  NodeId found = kReplacedParent;  // the directory found last, and where
  Node* directory = nullptr;
  const auto add_children = [&](NodeId parent_id, NodeId first, std::uint32_t count) {
    if (parent_id != found) {
      found = parent_id;
      directory = &data.nodes[data.place(parent_id).index];
    }
    Node& parent = *directory;
    const std::uint64_t had = parent.length();
    parent.set_length(had + count);
    if (had == 0) {
      parent.offset_high = kChildRun;
      parent.offset_low = first;
      return;
    }
    if ((parent.offset_high & kChildRun) != 0) {
      if (parent.offset_low + had == first) return;
      std::vector<NodeId>& broken = lists[parent_id];
      broken.reserve(had + count);
      for (std::uint64_t i = 0; i < had; ++i) broken.push_back(static_cast<NodeId>(parent.offset_low + i));
      parent.offset_high = 0;
    }
    if (parent_id != listed) {
      listed = parent_id;
      list = &lists[parent_id];
    }
    for (std::uint32_t i = 0; i < count; ++i) list->push_back(first + i);
  };
  data.walk(
      node_count_,
      [&](NodeId node, std::size_t index) {
        const NodeId parent = data.nodes[index].parent;
        if (parent != kReplacedParent) add_children(parent, node, 1);
      },
      [&](std::size_t r) {
        const GridRun& run = data.grid_runs[r];
        if (!data.run_has_replaced[r]) {
          add_children(run.parent(), run.first(), run.count());
          return;
        }
        for (NodeId member = run.first(); member < run.first() + run.count(); ++member) {
          if (!data.member_replaced(run.member_index(member))) add_children(run.parent(), member, 1);
        }
      });
  std::size_t total = 0;
  for (const auto& [parent, ids] : lists) total += ids.size();
  data.children.reserve(total);
  for (const auto& [parent, ids] : lists) {
    data.nodes[data.place(parent).index].set_offset(data.children.size());
    data.children.insert(data.children.end(), ids.begin(), ids.end());
  }
}

RefStore::RefStore(std::unique_ptr<Data> data) : data_(std::move(data)) {}
RefStore::RefStore(RefStore&&) noexcept = default;
RefStore& RefStore::operator=(RefStore&&) noexcept = default;
RefStore::~RefStore() = default;

std::size_t RefStore::node_count() const { return data_->node_count(); }

std::size_t RefStore::read_by_threads() const { return data_->read_by_threads; }

std::optional<NodeId> RefStore::lookup(NodeId directory, std::string_view name) const {
  return data_->lookup(directory, name);
}

std::optional<NodeId> RefStore::find(std::string_view key) const {
  NodeId node = kRootNode;
  std::size_t start = 0;
  while (start <= key.size()) {
    const std::size_t end = key.find('/', start);
    const auto next = lookup(node, key.substr(start, end == std::string_view::npos ? end : end - start));
    if (!next) return std::nullopt;
    node = *next;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return node;
}

std::string RefStore::name(NodeId node) const { return data_->name(node); }

NodeId RefStore::parent(NodeId node) const { return data_->parent(node); }

std::string RefStore::key(NodeId node) const { return data_->key(node); }

bool RefStore::is_directory(NodeId node) const { return data_->target(node).target == kDirectoryTarget; }

bool RefStore::is_replaced(NodeId node) const { return data_->parent(node) == kReplacedParent; }

Entry RefStore::entry(NodeId node) const { return data_->entry(data_->target(node)); }

void RefStore::for_each_entry(const std::function<void(NodeId, const Entry&)>& visit) const {
  data_->visit_entries(visit, true);
}

void RefStore::for_each_named_entry(const std::function<void(NodeId, const Entry&)>& visit) const {
  data_->visit_entries(visit, false);
}

void RefStore::Data::visit_entries(const std::function<void(NodeId, const Entry&)>& visit, bool with_members) const {
  visit(kRootNode, entry(nodes[0]));
  walk(
      static_cast<NodeId>(node_count()),
      [&](NodeId node, std::size_t index) {
        if (nodes[index].parent != kReplacedParent) visit(node, entry(nodes[index]));
      },
      [&](std::size_t r) {
        if (!with_members) return;
        const GridRun& run = grid_runs[r];
        members.visit(run.members_before(), run.members_before() + run.count(),
                      [&](std::uint64_t index, const Target& member) {
                        if (!member_replaced(index)) {
                          visit(run.first() + static_cast<NodeId>(index - run.members_before()), entry(member));
                        }
                      });
      });
}

Entry RefStore::Data::entry(const Target& target) const {
  Entry entry;
  switch (target.target) {
    case kDirectoryTarget:
      entry.kind = EntryKind::Directory;
      break;
    case kInlineTarget:
      entry.kind = EntryKind::Inline;
      entry.data = std::string_view(inline_bytes).substr(target.offset(), target.length());
      entry.length = target.length();
      break;
    default:
      entry.url = target.target;
      if (target.length() == kWholeFileLength) {
        entry.kind = EntryKind::WholeFile;
      } else {
        entry.kind = EntryKind::Range;
        entry.offset = target.offset();
        entry.length = target.length();
      }
  }
  return entry;
}

Children RefStore::children(NodeId directory) const {
  const Target n = data_->target(directory);
  if (n.target != kDirectoryTarget) return {};
  if ((n.offset_high & kChildRun) != 0) return Children::run(n.offset_low, n.length());
  return Children::list(data_->children.data() + n.offset(), n.length());
}

const std::string& RefStore::url(std::uint32_t index) const { return data_->urls[index]; }
std::size_t RefStore::url_count() const { return data_->urls.size(); }

std::size_t RefStore::memory_bytes() const {
  std::size_t bytes = data_->nodes.size() * sizeof(Node) + data_->members.memory_bytes() + data_->names.size() +
                      data_->inline_bytes.capacity() + data_->children.capacity() * sizeof(NodeId) +
                      data_->index.memory_bytes() + data_->grid_runs.capacity() * sizeof(GridRun);
  for (const auto& url : data_->urls) bytes += sizeof(std::string) + url.capacity();
  return bytes;
}

}  // namespace kerchunkfs::refstore
