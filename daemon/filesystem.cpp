#include "daemon/filesystem.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "daemon/consolidated.h"
#include "daemon/decoded_view.h"
#include "daemon/readahead.h"
#include "daemon/target_check.h"
#include "fetch/url.h"

namespace kerchunkfs::daemon {
namespace {

// The fetcher's options with its disk cache's failures going to the mount's log.
fetch::FetcherOptions logging_to(fetch::FetcherOptions options, const Logger& log) {
  options.disk.log = [&log](const std::string& line) { log.error(line); };
  return options;
}

using common::Error;
using common::Result;
using refstore::EntryKind;
using refstore::NodeId;

constexpr std::uint64_t kBlockSize = 4096;

// The low 32 bits of an inode number: node id + 1; the high ones: the generation.
constexpr unsigned kGenerationShift = 32;
constexpr Ino kLowMask = (Ino{1} << kGenerationShift) - 1;
// /.kerchunkfs and its stats file: inodes of a generation number no reference set ever gets. Each
// lookup of the stats file gives it a new inode number (and entry_timeout 0 makes every open
// look it up), so no page cache ever holds old numbers, even where files open without asking.
constexpr Ino kStatsDirectoryIno = (kLowMask << kGenerationShift) | 1;
constexpr Ino kStatsFileIno = (kLowMask << kGenerationShift) | 2;
constexpr std::string_view kStatsDirectoryName = ".kerchunkfs";
constexpr std::string_view kStatsFileName = "stats";
// The stats file shows this size whatever its text (padded with a comment): a size that changed
// between stat and read would cut the text short, and the kernel caches attributes.
constexpr std::size_t kStatsFileSize = 16384;

std::string padded(std::string text) {
  if (text.size() + 2 < kStatsFileSize) text += "#" + std::string(kStatsFileSize - text.size() - 2, ' ') + "\n";
  text.resize(kStatsFileSize, '\n');
  return text;
}

std::vector<std::string> url_table(const refstore::RefStore& store) {
  std::vector<std::string> urls;
  urls.reserve(store.url_count());
  for (std::uint32_t i = 0; i < store.url_count(); ++i) urls.push_back(store.url(i));
  return urls;
}

}  // namespace

struct Filesystem::Generation {
  Generation(std::uint32_t generation_number, ReferenceSet loaded, fetch::Fetcher& fetcher, ChunkDecoder& decoder,
             const Logger& log, const FilesystemOptions& options, const struct timespec& modified,
             std::atomic<std::size_t>& live)
      : number(generation_number),
        store(std::move(loaded.tree)),
        targets(fetcher.targets(url_table(store))),
        readahead(store, options.prefetch_bytes),
        read_path{fetcher, readahead, targets},
        chunks(loaded.chunks ? loaded.chunks(store, generation_number) : nullptr),
        decoded(options.decode ? std::make_unique<DecodedView>(store, read_path, decoder, log, generation_number,
                                                               chunks != nullptr)
                               : nullptr),
        mtime(modified),
        live_count(live) {
    live_count += 1;
  }
  ~Generation() { live_count -= 1; }
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  Ino ino(NodeId node) const {
    return node == refstore::kRootNode ? kRootIno : (Ino{number} << kGenerationShift) | (Ino{node} + 1);
  }
  Ino consolidated_ino() const { return (Ino{number} << kGenerationShift) | (Ino{store.node_count()} + 1); }
  // The chunk files of assembled arrays come after the nodes and the consolidated metadata.
  std::optional<Ino> synthesized_ino(std::uint64_t ordinal) const {
    const std::uint64_t low = std::uint64_t{store.node_count()} + 2 + ordinal;
    if (low >= kLowMask || ordinal >= kLowMask) return std::nullopt;
    return (Ino{number} << kGenerationShift) | low;
  }

  // The content of a file node: what its entry refers to, or what the decoded view shows.
  std::unique_ptr<Content> content_of(NodeId node) {
    if (decoded) {
      if (is_own_consolidated(node)) {
        if (const std::string* text = consolidated_text(true)) return inline_content(*text);
      }
      if (auto shown = decoded->content_of(node)) return shown;
    }
    const refstore::Entry entry = store.entry(node);
    if (!decoded && entry.kind == EntryKind::Inline && store.name(node) == ".zarray" &&
        entry.data.find("\"" + std::string(kAssembledCodec) + "\"") != std::string_view::npos) {
      return error_content(
          "an array kerchunkfs-scan assembled from files whose chunks or packing differ: "
          "only the decoded view shows it (mount with -o decode)");
    }
    switch (entry.kind) {
      case EntryKind::Inline:
        return inline_content(entry.data);
      case EntryKind::Range:
        return range_content(read_path, node, fetch::Extent{targets[entry.url], entry.offset, entry.length});
      case EntryKind::WholeFile:
        return whole_file_content(read_path, node, *targets[entry.url]);
      case EntryKind::Directory:
        break;
    }
    return nullptr;
  }

  bool is_own_consolidated(NodeId node) const {
    return node != refstore::kRootNode && store.parent(node) == refstore::kRootNode &&
           store.name(node) == kConsolidatedName;
  }

  // The size a file shows, when known without a request (not for a whole-file reference).
  std::optional<std::uint64_t> shown_size(NodeId node, const refstore::Entry& entry) {
    if (decoded) {
      if (is_own_consolidated(node)) {
        if (const std::string* text = consolidated_text(true)) return text->size();
      }
      if (const auto size = decoded->size_of(node)) return size;
    }
    if (entry.kind == EntryKind::WholeFile) return std::nullopt;
    return entry.length;
  }

  struct Totals {
    std::uint64_t bytes = 0;       // of every file
    std::uint64_t references = 0;  // keys, not directories
  };
  // Counted on first use (statfs, the stats file), not at mount: a walk over every node, which
  // for ten million keys would hold the mount back by 40 ms.
  const Totals& totals() {
    std::call_once(totals_once, [this] {
      store.for_each_entry([this](NodeId /*node*/, const refstore::Entry& entry) {
        if (entry.kind == EntryKind::Inline || entry.kind == EntryKind::Range) counted.bytes += entry.length;
        if (entry.kind != EntryKind::Directory) ++counted.references;
      });
    });
    return counted;
  }

  // The synthesized /.zmetadata (made on first use); null when there is none to offer. In the
  // decoded view it replaces the set's own, which describes the stored codecs.
  const std::string* consolidated_text(bool enabled) {
    if (!enabled) return nullptr;
    std::call_once(consolidated_once, [this] {
      ShownText shown;
      if (decoded) {
        shown = [this](NodeId node) -> std::optional<std::string> {
          if (store.name(node) != ".zarray") return std::nullopt;
          const DecodedArray* array = decoded->array(store.parent(node));
          return array ? std::optional<std::string>(array->zarray) : std::nullopt;
        };
      }
      consolidated = consolidated_metadata(store, shown);
    });
    return consolidated.empty() ? nullptr : &consolidated;
  }

  const std::uint32_t number;
  const refstore::RefStore store;
  const std::vector<const fetch::Target*> targets;  // the set's URL table, in the mount's Fetcher
  ReadAhead readahead;
  const ReadPath read_path;
  const std::unique_ptr<ChunkTable> chunks;    // the chunks no key names, for formats that keep them apart
  const std::unique_ptr<DecodedView> decoded;  // with -o decode
  const struct timespec mtime;
  std::once_flag totals_once;
  Totals counted;  // by totals()
  std::once_flag consolidated_once;
  std::string consolidated;  // the synthesized /.zmetadata, made on first use
  std::atomic<std::size_t>& live_count;
};

Filesystem::Filesystem(ReferenceSet set, const fetch::SourceRegistry& sources, const Logger& log,
                       FilesystemOptions options)
    : sources_(sources),
      log_(log),
      options_(std::move(options)),
      fetcher_(sources, logging_to(options_.fetch, log)),
      decoder_(options_.decode_cache_bytes, options_.decode_threads) {
  current_ = std::make_shared<Generation>(next_generation_++, std::move(set), fetcher_, decoder_, log_, options_,
                                          options_.mtime, live_generations_);
}

Filesystem::~Filesystem() = default;

Filesystem::GenerationPtr Filesystem::current() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

bool Filesystem::is_stats_directory(Ino ino) const { return options_.stats && ino == kStatsDirectoryIno; }

Filesystem::InodePtr Filesystem::resolve(Ino ino) const {
  if (ino == kRootIno) return std::make_shared<Inode>(Inode{current(), refstore::kRootNode, nullptr, 0});
  if (is_stats_directory(ino)) return std::make_shared<Inode>(Inode{current(), refstore::kRootNode, nullptr, 0});
  const std::lock_guard lock(mutex_);
  const auto found = inodes_.find(ino);
  return found == inodes_.end() ? nullptr : found->second;
}

void Filesystem::remember(Ino ino, const std::function<Inode()>& make) {
  const std::lock_guard lock(mutex_);
  auto& slot = inodes_[ino];
  if (!slot) slot = std::make_shared<Inode>(make());
  slot->lookups += 1;
}

void Filesystem::forget(Ino ino, std::uint64_t count) {
  const std::lock_guard lock(mutex_);
  const auto found = inodes_.find(ino);
  if (found == inodes_.end()) return;
  found->second->lookups -= std::min(count, found->second->lookups);
  if (found->second->lookups == 0) inodes_.erase(found);  // its generation goes with its last inode
}

std::vector<std::string> Filesystem::replace(ReferenceSet set, const struct timespec& mtime) {
  std::uint32_t number = 0;
  {
    const std::lock_guard lock(mutex_);
    number = next_generation_++;
  }
  auto fresh = std::make_shared<Generation>(number, std::move(set), fetcher_, decoder_, log_, options_, mtime,
                                            live_generations_);
  counters_.reloads += 1;
  GenerationPtr old;
  {
    const std::lock_guard lock(mutex_);
    old = std::exchange(current_, fresh);
  }
  // The root's entries old and new (a name the kernel knows to be absent may exist now), and the
  // synthesized metadata: everything below hangs off these.
  std::vector<std::string> names;
  for (const GenerationPtr& generation : {old, fresh}) {
    for (const NodeId child : generation->store.children(refstore::kRootNode)) {
      names.emplace_back(generation->store.name(child));
    }
  }
  names.emplace_back(kConsolidatedName);
  return names;
}

const std::string* Filesystem::consolidated(Generation& generation) const {
  return generation.consolidated_text(options_.consolidated);
}

Filesystem::Shape Filesystem::shape_of(const Inode& inode) {
  if (!inode.content) return Shape::Directory;
  return inode.content->is_live() ? Shape::LiveFile : Shape::File;
}

struct stat Filesystem::attributes(const Generation& generation, Ino ino, Shape shape, std::uint64_t size) const {
  struct stat st {};
  st.st_ino = ino;
  if (shape == Shape::Directory) {
    st.st_mode = S_IFDIR | 0555;
    st.st_nlink = 2;
  } else {
    st.st_mode = S_IFREG | 0444;
    st.st_nlink = 1;
    st.st_size = static_cast<off_t>(size);
    st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
  }
  st.st_blksize = kBlockSize;
  st.st_uid = options_.uid;
  st.st_gid = options_.gid;
  st.st_atim = st.st_mtim = st.st_ctim = shape == Shape::LiveFile ? timespec{std::time(nullptr), 0} : generation.mtime;
  return st;
}

EntryReply Filesystem::entry(const Generation& generation, Ino ino, Shape shape, std::uint64_t size) const {
  const double timeout = shape == Shape::LiveFile ? 0 : options_.cache_timeout;
  return EntryReply{ino, attributes(generation, ino, shape, size), timeout, timeout};
}

void Filesystem::lookup(Ino parent_ino, std::string_view name, std::function<void(Result<EntryReply>)> done) {
  if (is_stats_directory(parent_ino)) return lookup_stats(name, done);
  const InodePtr parent = resolve(parent_ino);
  if (!parent) return done(Error{"no such inode", ENOENT});
  if (parent->content) return done(Error{"not a directory", ENOTDIR});
  const GenerationPtr generation = parent->generation;
  auto child = generation->store.lookup(parent->node, name);
  if (child && generation->decoded && generation->decoded->hidden(*child)) child.reset();
  if (!child && generation->decoded) {
    if (auto file = generation->decoded->synthesized(parent->node, name)) {
      const auto ino = generation->synthesized_ino(file->ordinal);
      if (!ino) return done(Error{"too many files in the view", ENOSPC});
      std::shared_ptr<const Content> content = std::move(file->content);
      remember(*ino, [&] { return Inode{generation, parent->node, content, 0}; });
      return done(entry(*generation, *ino, Shape::File, file->size));
    }
  }
  if (!child && generation->chunks && generation->chunks->grid(parent->node) != nullptr) {
    return lookup_chunk(generation, parent->node, name, std::move(done));
  }
  const bool in_root = parent->node == refstore::kRootNode;
  if (!child && in_root && options_.stats && name == kStatsDirectoryName) {
    return done(entry(*generation, kStatsDirectoryIno, Shape::Directory, 0));  // not counted: never forgotten
  }
  if (!child && in_root && name == kConsolidatedName) {
    if (const std::string* text = consolidated(*generation)) {
      const Ino ino = generation->consolidated_ino();
      // The generation, which the inode holds, owns the text: the content borrows it.
      remember(ino, [&] { return Inode{generation, refstore::kRootNode, inline_content(*text), 0}; });
      return done(entry(*generation, ino, Shape::File, text->size()));
    }
  }
  if (!child) {
    // A negative entry: zarr readers probe for chunks that were never written (they read as the
    // fill value), and the kernel can remember that they are absent.
    EntryReply e;
    e.entry_timeout = options_.cache_timeout;
    return done(e);
  }
  const Ino ino = generation->ino(*child);
  auto made = std::make_shared<Inode>(Inode{generation, *child, generation->content_of(*child), 0});
  if (!made->content) {
    remember(ino, [&] { return *made; });
    return done(entry(*generation, ino, Shape::Directory, 0));
  }
  answer_file(made, ino, made->generation->store.key(made->node), std::move(done));
}

void Filesystem::answer_file(const InodePtr& made, Ino ino, std::string key,
                             std::function<void(Result<EntryReply>)> done) {
  made->content->size([this, made, ino, key = std::move(key), done = std::move(done)](Result<std::uint64_t> size) {
    if (!size) {
      log_.error(key + ": " + size.error().message);
      return done(Error{size.error().message, EIO});
    }
    const EntryReply e = entry(*made->generation, ino, Shape::File, *size);
    remember(ino, [&] { return *made; });
    done(e);
  });
}

Result<const fetch::Target*> Filesystem::row_target(const std::string& url) {
  // The untrusted-set policy, for a URL met only now.
  if (const auto refused = target_refusal(url, sources_, options_)) {
    return Error{"URL " + fetch::redact_url(url) + ": " + *refused, EIO};
  }
  const std::string urls[] = {url};
  return fetcher_.targets(urls).front();
}

void Filesystem::lookup_chunk(const GenerationPtr& generation, NodeId directory, std::string_view name,
                              std::function<void(Result<EntryReply>)> done) {
  ChunkTable& table = *generation->chunks;
  const common::ChunkGrid& grid = *table.grid(directory);
  const auto index = grid.index_of(name);
  EntryReply absent;
  absent.entry_timeout = options_.cache_timeout;
  if (!index) return done(absent);
  const std::string key = generation->store.key(directory) + "/" + std::string(name);
  auto chunk = table.chunk(directory, *index);
  const Result<const fetch::Target*> target =
      !chunk || chunk->url.empty() ? Result<const fetch::Target*>(nullptr) : row_target(chunk->url);
  if (!chunk || !target) {
    const Error& error = chunk ? target.error() : chunk.error();
    log_.error(key + ": " + error.message);
    return done(Error{error.message, EIO});
  }
  if (chunk->kind == ChunkReference::Kind::Missing) return done(absent);  // never written: the reader's fill value
  const std::uint64_t ordinal = table.first_ordinal(directory) + *index;
  const auto ino = generation->synthesized_ino(ordinal);
  if (!ino) return done(Error{"too many files in the view", ENOSPC});
  std::unique_ptr<Content> content;
  const DecodedArray* decoded = generation->decoded ? generation->decoded->array(directory) : nullptr;
  if (decoded != nullptr) {
    auto as_stored = [this](ChunkReference reference) -> std::optional<ChunkDecoder::Stored> {
      if (reference.kind == ChunkReference::Kind::Missing) return std::nullopt;
      if (reference.kind == ChunkReference::Kind::Inline) return DecodedView::stored_inline(std::move(reference.bytes));
      const auto found = row_target(reference.url);
      if (!found) return std::nullopt;
      return reference.kind == ChunkReference::Kind::Range
                 ? DecodedView::stored_range(fetcher_, fetch::Extent{*found, reference.offset, reference.length})
                 : DecodedView::stored_whole_file(fetcher_, **found);
    };
    // The next chunks' references, for decoding ahead: asked during reads of this file, whose
    // inode holds the generation and so its chunk table.
    auto stored_of = [as_stored, &table, directory](std::uint64_t next) {
      auto reference = table.chunk(directory, next);
      return reference ? as_stored(std::move(*reference)) : std::nullopt;
    };
    auto stored = as_stored(std::move(*chunk));
    content = generation->decoded->row_chunk(*decoded, *index, ordinal, std::move(*stored), std::move(stored_of));
  } else if (chunk->kind == ChunkReference::Kind::Inline) {
    content = owned_inline_content(std::move(chunk->bytes));
  } else if (chunk->kind == ChunkReference::Kind::Range) {
    content = range_content(generation->read_path, directory, fetch::Extent{*target, chunk->offset, chunk->length});
  } else {
    content = whole_file_content(generation->read_path, directory, **target);
  }
  auto made = std::make_shared<Inode>(Inode{generation, directory, std::move(content), 0});
  answer_file(made, *ino, key, std::move(done));
}

void Filesystem::lookup_stats(std::string_view name, const std::function<void(Result<EntryReply>)>& done) {
  if (name != kStatsFileName) {
    EntryReply negative;
    return done(negative);
  }
  const Ino ino = kStatsFileIno + (stats_lookups_.fetch_add(1) % (kLowMask - 2));
  const GenerationPtr generation = current();
  remember(ino, [&] {
    return Inode{generation, refstore::kRootNode,
                 live_text_content([this] { return padded(stats_text()); }, kStatsFileSize), 0};
  });
  done(entry(*generation, ino, Shape::LiveFile, kStatsFileSize));
}

void Filesystem::getattr(Ino ino, std::function<void(Result<AttrReply>)> done) {
  const InodePtr inode = resolve(ino);
  if (!inode) return done(Error{"no such inode", ENOENT});
  if (!inode->content)
    return done(AttrReply{attributes(*inode->generation, ino, Shape::Directory, 0), options_.cache_timeout});
  inode->content->size([this, inode, ino, done = std::move(done)](Result<std::uint64_t> size) {
    if (!size) {
      log_.error(inode->generation->store.key(inode->node) + ": " + size.error().message);
      return done(Error{size.error().message, EIO});
    }
    const EntryReply e = entry(*inode->generation, ino, shape_of(*inode), *size);
    done(AttrReply{e.attr, e.attr_timeout});
  });
}

Result<OpenReply> Filesystem::open(Ino ino, int flags) {
  const InodePtr inode = resolve(ino);
  if (!inode) return Error{"no such inode", ENOENT};
  if (!inode->content) return Error{"a directory", EISDIR};
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0) return Error{"read-only", EROFS};
  OpenReply reply;
  reply.direct_io = inode->content->is_live();  // every read asks again: the numbers move
  reply.keep_cache = !reply.direct_io;
  return reply;
}

Result<OpenReply> Filesystem::opendir(Ino ino) {
  const InodePtr inode = resolve(ino);
  if (!inode) return Error{"no such inode", ENOENT};
  if (inode->content) return Error{"not a directory", ENOTDIR};
  OpenReply reply;
  reply.keep_cache = reply.cache_readdir = !is_stats_directory(ino);
  return reply;
}

void Filesystem::read(Ino ino, std::uint64_t offset, std::size_t size, ContentRead done) {
  const InodePtr inode = resolve(ino);
  if (!inode) return done(Error{"no such inode", ENOENT});
  if (!inode->content) return done(Error{"a directory", EISDIR});
  // The inode rides along until the answer: its content and generation stay alive meanwhile.
  inode->content->read(offset, size, [this, inode, done = std::move(done)](const Result<std::span<const char>>& bytes) {
    if (!bytes) {
      // Only contents that read a target fail, and those are the set's own keys.
      const std::string key = inode->generation->store.key(inode->node);
      log_.error(key + ": " + bytes.error().message);
      return done(Error{key + ": " + bytes.error().message, EIO});
    }
    done(bytes);
  });
}

std::optional<fetch::FileSlice> Filesystem::file_slice(Ino ino, std::uint64_t offset, std::size_t size) {
  const InodePtr inode = resolve(ino);
  if (!inode || !inode->content) return std::nullopt;
  return inode->content->file_slice(offset, size);
}

common::Status Filesystem::readdir(Ino ino, std::uint64_t offset, bool plus,
                                   const std::function<bool(const DirEntry&)>& emit) {
  if (is_stats_directory(ino)) return readdir_stats(offset, emit);
  const InodePtr directory = resolve(ino);
  if (!directory) return Error{"no such inode", ENOENT};
  if (directory->content) return Error{"not a directory", ENOTDIR};
  const GenerationPtr& generation = directory->generation;
  const refstore::RefStore& store = generation->store;
  if (generation->decoded) {
    if (const Assembly* assembly = generation->decoded->assembly_of(directory->node)) {
      const auto file = generation->decoded->synthesized(directory->node, assembly->grid.key_of(0));
      return readdir_synthesized(*generation, directory->node, assembly->grid, file ? file->ordinal : 0,
                                 assembly->chunk_bytes, offset, emit, nullptr);
    }
  }
  if (generation->chunks) {
    if (const common::ChunkGrid* grid = generation->chunks->grid(directory->node)) {
      // Sizes are not known before a chunk's reference is read: the kernel looks each file up.
      ChunkTable& table = *generation->chunks;
      const NodeId array = directory->node;
      return readdir_synthesized(*generation, array, *grid, table.first_ordinal(array), 0, offset, emit,
                                 [&table, array](std::uint64_t chunk) { return table.listed(array, chunk); });
    }
  }
  const auto children = store.children(directory->node);
  // The root lists the synthesized /.zmetadata after its own entries.
  const bool offers_own = directory->node == refstore::kRootNode && !store.lookup(directory->node, kConsolidatedName);
  const std::string* extra = offers_own ? consolidated(*generation) : nullptr;
  const std::size_t count = children.size() + 2 + (extra != nullptr ? 1 : 0);
  // Offsets 0 and 1 are "." and ".."; offset i + 2 is child i. An entry's offset is the next one's.
  std::string name;  // the entry's, spelt for a chunk of a grid run
  for (auto index = static_cast<std::size_t>(offset); index < count; ++index) {
    DirEntry item;
    item.next_offset = index + 1;
    if (index < 2) {  // "." and "..": not lookups
      item.name = index == 0 ? "." : "..";
      const NodeId node = index == 0 ? directory->node : store.parent(directory->node);
      item.entry = entry(*generation, generation->ino(node), Shape::Directory, 0);
      item.entry.ino = 0;
      if (!emit(item)) break;
      continue;
    }
    const bool synthesized = index == children.size() + 2;
    const NodeId node = synthesized ? refstore::kRootNode : children[index - 2];
    const Ino ino = synthesized ? generation->consolidated_ino() : generation->ino(node);
    name = synthesized ? std::string(kConsolidatedName) : store.name(node);
    item.name = name;
    const refstore::Entry e =
        synthesized ? refstore::Entry{EntryKind::Inline, *extra, 0, 0, extra->size()} : store.entry(node);
    const Shape shape = e.kind == EntryKind::Directory ? Shape::Directory : Shape::File;
    // A whole file's size may need a request: its entry carries no inode number, so the kernel
    // looks it up when it needs the attributes. Only readdirplus entries are lookups.
    const std::optional<std::uint64_t> size = synthesized || shape == Shape::Directory
                                                  ? std::optional<std::uint64_t>(e.length)
                                                  : generation->shown_size(node, e);
    const bool counted = plus && size.has_value();
    item.entry = entry(*generation, ino, shape, size.value_or(0));
    if (!counted) item.entry.ino = 0;
    if (!emit(item)) break;
    if (counted) {
      remember(ino, [&] {
        return Inode{generation, node, synthesized ? inline_content(*extra) : generation->content_of(node), 0};
      });
    }
  }
  return common::Ok{};
}

common::Status Filesystem::readdir_synthesized(Generation& generation, NodeId directory, const common::ChunkGrid& grid,
                                               std::uint64_t first_ordinal, std::uint64_t chunk_size,
                                               std::uint64_t offset, const std::function<bool(const DirEntry&)>& emit,
                                               const std::function<bool(std::uint64_t chunk)>& listed) {
  const refstore::RefStore& store = generation.store;
  // ".", "..", the array's own files (not the files' arrays an assembled one is made from), then
  // its chunks, which the kernel looks up by name when it wants them.
  std::vector<NodeId> shown;
  for (const NodeId child : store.children(directory)) {
    if (!generation.decoded || !generation.decoded->hidden(child)) shown.push_back(child);
  }
  const std::uint64_t count = 2 + shown.size() + grid.chunk_count();
  std::string name;
  for (std::uint64_t index = offset; index < count; ++index) {
    DirEntry item;
    item.next_offset = index + 1;
    if (index < 2) {
      item.name = index == 0 ? "." : "..";
      const NodeId node = index == 0 ? directory : store.parent(directory);
      item.entry = entry(generation, generation.ino(node), Shape::Directory, 0);
    } else if (index < 2 + shown.size()) {
      const NodeId node = shown[index - 2];
      name = store.name(node);
      item.name = name;
      const refstore::Entry e = store.entry(node);
      item.entry = entry(generation, generation.ino(node), Shape::File, generation.shown_size(node, e).value_or(0));
    } else {
      const std::uint64_t chunk = index - 2 - shown.size();
      if (listed && !listed(chunk)) continue;  // missing: offsets stay those of the whole grid
      name = grid.key_of(chunk);
      item.name = name;
      const auto ino = generation.synthesized_ino(first_ordinal + chunk);
      if (!ino) return Error{"too many files in the view", ENOSPC};
      item.entry = entry(generation, *ino, Shape::File, chunk_size);
    }
    item.entry.ino = 0;  // not lookups: the kernel looks each name up when it needs it
    if (!emit(item)) break;
  }
  return common::Ok{};
}

common::Status Filesystem::readdir_stats(std::uint64_t offset, const std::function<bool(const DirEntry&)>& emit) {
  const GenerationPtr generation = current();
  const std::string_view names[] = {".", "..", kStatsFileName};
  const Ino inos[] = {kStatsDirectoryIno, kRootIno, kStatsFileIno};
  const Shape shapes[] = {Shape::Directory, Shape::Directory, Shape::LiveFile};
  for (auto index = static_cast<std::size_t>(offset); index < 3; ++index) {
    DirEntry item{names[index], entry(*generation, inos[index], shapes[index], kStatsFileSize), index + 1};
    item.entry.ino = 0;  // no inode number: not counted as lookups
    if (!emit(item)) break;
  }
  return common::Ok{};
}

struct statvfs Filesystem::statfs() const {
  const GenerationPtr generation = current();
  struct statvfs st {};
  st.f_bsize = kBlockSize;
  st.f_frsize = kBlockSize;
  st.f_blocks = (generation->totals().bytes + kBlockSize - 1) / kBlockSize;
  st.f_files = generation->store.node_count();
  st.f_namemax = 255;
  st.f_flag = ST_RDONLY;
  return st;
}

std::string Filesystem::stats_text() const {
  StatsInput input;
  input.reads = &counters_;
  input.http = sources_.http_counters();
  input.cache = fetcher_.cache_stats();
  input.cache_capacity = fetcher_.cache_capacity();
  input.disk = fetcher_.disk_cache_stats();
  input.references = current()->totals().references;
  input.generations = generation_count();
  if (options_.decode) {
    input.decode = &decoder_.counters();
    input.decoded_cache = decoder_.cache_stats();
    input.decoded_cache_capacity = decoder_.cache_capacity();
  }
  return render_stats(input);
}

std::string Filesystem::summary() const {
  std::string line;
  if (const fetch::HttpCounters* http = sources_.http_counters()) {
    line = "http: " + std::to_string(http->requests.load()) + " requests (" + std::to_string(http->retries.load()) +
           " retries), " + std::to_string(http->failures.load()) + " failed reads, " +
           std::to_string(http->bytes.load()) + " bytes received; ";
  }
  const fetch::CacheStats stats = fetcher_.cache_stats();
  return line + "cache: " + std::to_string(stats.hits) + " hits, " + std::to_string(stats.misses) + " misses, " +
         std::to_string(stats.joined) + " joined a fetch under way, " + std::to_string(stats.evictions) +
         " evictions, " + std::to_string(stats.bytes) + " bytes held";
}

}  // namespace kerchunkfs::daemon
