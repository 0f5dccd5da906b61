// A reference set (kerchunk/fsspec spec, versions 0 and 1) held as a compact, immutable path tree.
//
// Every key becomes a file node; every key prefix a directory node. A node is 24 bytes, its name
// lives in one shared arena (chunk keys listed in C order need none: see grid_run.h), URLs are
// interned, inline bytes share one arena, and a hash index on (parent, name) answers lookups.
// See README "Design" for the measured bytes per reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kerchunkfs::refstore {

using NodeId = std::uint32_t;
inline constexpr NodeId kRootNode = 0;

enum class EntryKind : std::uint8_t { Directory, Inline, Range, WholeFile };

// One node, decoded from its compact form.
struct Entry {
  EntryKind kind = EntryKind::Directory;
  std::string_view data;     // Inline: the bytes (borrowed from the store)
  std::uint32_t url = 0;     // Range and WholeFile: index into RefStore::url()
  std::uint64_t offset = 0;  // Range: where the bytes start in the target
  std::uint64_t length = 0;  // Range: how many bytes; Inline: data.size()
};

// A directory's children in key order: usually a run of consecutive node ids (a set lists an
// array's keys together, and they are numbered as they come), which costs no memory; else a list.
class Children {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = NodeId;
    using difference_type = std::ptrdiff_t;
    using pointer = const NodeId*;
    using reference = NodeId;

    Iterator() = default;
    Iterator(const Children* children, std::size_t index) : children_(children), index_(index) {}
    NodeId operator*() const { return (*children_)[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++index_;
      return before;
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    const Children* children_ = nullptr;
    std::size_t index_ = 0;
  };

  Children() = default;
  static Children run(NodeId first, std::size_t count) {
    Children children;
    children.first_ = first;
    children.count_ = count;
    return children;
  }
  static Children list(const NodeId* ids, std::size_t count) {
    Children children;
    children.ids_ = ids;
    children.count_ = count;
    return children;
  }

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  NodeId operator[](std::size_t index) const {
    return ids_ != nullptr ? ids_[index] : first_ + static_cast<NodeId>(index);
  }
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, count_); }

 private:
  const NodeId* ids_ = nullptr;  // a list; null for a run
  NodeId first_ = 0;
  std::size_t count_ = 0;
};

struct LoadOptions {
  // Directory that relative paths in URLs are relative to (the reference file's directory, or
  // for a set fetched by URL, its URL's).
  std::string relative_base = ".";
  // For URLs without a scheme (fsspec's remote_protocol): "s3" makes "bucket/key" s3://bucket/key;
  // empty: such a URL is a path relative to relative_base.
  std::string remote_protocol;
  // URL used by references whose URL is null; without it such a reference is an error.
  std::optional<std::string> default_target;
  // Keys (directories included, and every key gen entries would make) beyond which a set is
  // refused before it is built: at about 42 bytes each, the default bounds a set near 4 GB.
  std::uint64_t max_keys = 100'000'000;
  // A set with at least this many bytes of JSON left when its entries begin is read by two
  // threads, each half of the entries (see parse.cpp, read_entries); the store and any error
  // are the same either way. Tests lower it to exercise that path.
  std::size_t two_threads_from_bytes = std::size_t{16} << 20;
  // The entries are read through a buffer of this many bytes, reused (refstore/read_window.h);
  // a member that its end cuts is read again where the whole document is, so the store and any
  // error are the same whatever the size. 0 reads everything in place. Tests make it small.
  std::size_t read_window_bytes = std::size_t{1} << 20;
};

// A target URL as a set writes it, resolved: a path without a scheme becomes an object of the
// remote protocol when one is given, else a path relative to the base; other URLs stay as they are.
std::string resolve_target(std::string url, std::string_view relative_base, std::string_view remote_protocol);

class RefStore {
 public:
  // Reads and parses a reference file. Bad input fails with one line naming the file, the key and
  // the problem.
  [[nodiscard]] static common::Result<RefStore> load_file(const std::string& path, const LoadOptions& options);
  [[nodiscard]] static common::Result<RefStore> parse(std::string_view json, const LoadOptions& options);

  RefStore(RefStore&&) noexcept;
  RefStore& operator=(RefStore&&) noexcept;
  ~RefStore();

  std::size_t node_count() const;
  std::optional<NodeId> lookup(NodeId directory, std::string_view name) const;
  // The node for a whole key such as "var/0.1", or for a directory such as "var".
  std::optional<NodeId> find(std::string_view key) const;
  // A chunk key in a grid run has its name spelt on demand (see grid_run.h).
  std::string name(NodeId node) const;
  NodeId parent(NodeId node) const;  // the root is its own parent
  // The full key of a node ("var/0.1"), for messages.
  std::string key(NodeId node) const;
  bool is_directory(NodeId node) const;
  // A key given again later in the set: the later definition is the one in the tree, and this
  // node is in no directory. Code that walks every node id skips these.
  bool is_replaced(NodeId node) const;
  Entry entry(NodeId node) const;
  Children children(NodeId directory) const;
  // Calls `visit` with every node still in the tree (not replaced) and its entry, in node order:
  // a walk over a whole set at less cost than entry() for each node id.
  void for_each_entry(const std::function<void(NodeId, const Entry&)>& visit) const;
  // The same, passing over the chunk keys kept as grid runs (see grid_run.h): every node whose
  // name is not chunk coordinates is visited (metadata keys, directories), some chunks may be.
  void for_each_named_entry(const std::function<void(NodeId, const Entry&)>& visit) const;
  // URLs after resolution: relative paths made absolute, null URLs replaced by the default target.
  const std::string& url(std::uint32_t index) const;
  std::size_t url_count() const;
  // Heap bytes held by the index, for the memory figures in bench/.
  std::size_t memory_bytes() const;
  // How many threads read the set's entries: 2 when a second one read part of them.
  std::size_t read_by_threads() const;

 private:
  struct Data;
  explicit RefStore(std::unique_ptr<Data> data);
  std::unique_ptr<Data> data_;
  friend class StoreBuilder;
};

}  // namespace kerchunkfs::refstore
