#include "daemon/set_formats.h"

#include <array>

#include "daemon/parquet_view.h"
#include "daemon/remote_set.h"
#include "daemon/target_check.h"
#include "fetch/url.h"

namespace kerchunkfs::daemon {
namespace {

using common::Error;
using common::Result;
using refstore::RefStore;

// A set fetched by URL is held whole while it is parsed: 4 GiB, beyond any JSON set the loader
// handles (max_keys bounds it too).
constexpr std::uint64_t kMostRemoteSetBytes = 4ull << 30;
// A refs file holds at most a record_size of rows: far below this.
constexpr std::uint64_t kMostRefsFileBytes = 1ull << 30;

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

refstore::LoadOptions load_options_for(const std::string& refs, const Settings& settings) {
  refstore::LoadOptions options;
  options.relative_base = base_of(refs);
  options.remote_protocol = settings.filesystem.remote_protocol;
  options.max_keys = settings.filesystem.max_keys;
  options.default_target = settings.target;
  return options;
}

Result<std::string> fetch_whole(const std::string& url, const Settings& settings, std::uint64_t most_bytes) {
  const auto fetching = sources_like_the_mounts(settings);
  auto bytes = fetch_remote_set(url, fetching, most_bytes);
  fetching.stop_all();
  return bytes;
}

// What a format's loader is given.
struct LoadContext {
  const std::string& refs;
  const Settings& settings;
  const fetch::SourceRegistry& sources;
  const std::shared_ptr<ParquetTables>& parquet_tables;
};

Result<ReferenceSet> checked_json_set(Result<RefStore> store, const LoadContext& context) {
  if (!store) return store.error();
  if (const auto checked = check_targets(*store, context.sources, context.settings.filesystem); !checked) {
    return Error{fetch::redact_url(context.refs) + ": " + checked.error().message};
  }
  return ReferenceSet{std::move(*store), {}};
}

// kerchunk's JSON (spec versions 0 and 1), a local file, plain or compressed.
Result<ReferenceSet> load_json_file(const LoadContext& context) {
  return checked_json_set(RefStore::load_file(context.refs, load_options_for(context.refs, context.settings)), context);
}

// The same by URL, fetched whole.
Result<ReferenceSet> load_json_url(const LoadContext& context) {
  const auto text = fetch_whole(context.refs, context.settings, kMostRemoteSetBytes);
  if (!text) return text.error();
  auto store = RefStore::parse(*text, load_options_for(context.refs, context.settings));
  if (!store) return common::wrap(store.error(), fetch::redact_url(context.refs));
  return checked_json_set(std::move(store), context);
}

// kerchunk's parquet layout, a local folder: the tree from .zmetadata, chunks from refs files.
Result<ReferenceSet> load_parquet_folder(const LoadContext& context) {
  return load_parquet_set(context.refs, load_options_for(context.refs, context.settings), context.parquet_tables);
}

// The same by URL: .zmetadata fetched now, each refs file when a chunk of it is first looked up.
Result<ReferenceSet> load_parquet_url(const LoadContext& context) {
  const std::string metadata = set_object(context.refs);
  const auto text = fetch_whole(metadata, context.settings, kMostRemoteSetBytes);
  if (!text) return text.error();
  return parquet_set_from_metadata(*text, fetch::redact_url(metadata), without_trailing_slash(context.refs),
                                   load_options_for(context.refs, context.settings), context.parquet_tables);
}

bool is_local_parquet_set(const std::string& refs) { return !is_remote_set(refs) && is_parquet_set(refs); }
bool is_parquet_url(const std::string& refs) { return is_remote_parquet_set(refs); }
bool is_local_file(const std::string& refs) { return !is_remote_set(refs); }
bool is_url(const std::string& refs) { return is_remote_set(refs); }
std::string itself(const std::string& refs) { return refs; }
std::string its_metadata(const std::string& refs) { return refs + "/.zmetadata"; }

struct SetFormat {
  std::string_view name;
  bool (*recognises)(const std::string& refs);
  Result<ReferenceSet> (*load)(const LoadContext& context);
  std::string (*watched_file)(const std::string& refs);  // a parquet set's writers write .zmetadata last
};

// The first line that recognises REFS loads it: the more particular before the more general.
constexpr std::array kFormats{
    SetFormat{"parquet", is_local_parquet_set, load_parquet_folder, its_metadata},
    SetFormat{"parquet", is_parquet_url, load_parquet_url, itself},
    SetFormat{"json", is_url, load_json_url, itself},
    SetFormat{"json", is_local_file, load_json_file, itself},
};

const SetFormat& format_of(const std::string& refs) {
  for (const SetFormat& format : kFormats) {
    if (format.recognises(refs)) return format;
  }
  return kFormats.back();  // every REFS is a URL or a local path
}

}  // namespace

fetch::SourceRegistry sources_like_the_mounts(const Settings& settings) {
  return fetch::SourceRegistry::with_default_sources(settings.filesystem.fetch.http, settings.filesystem.s3,
                                                     settings.filesystem.local_roots);
}

std::string base_of(const std::string& refs) {
  return is_remote_set(refs) ? remote_directory(refs) : directory_of(refs);
}

SetLoader::SetLoader(const Settings& settings, const fetch::SourceRegistry& sources)
    : settings_(settings),
      sources_(sources),
      // A refs file by URL is read whole through sources of its own, as a set by URL is.
      parquet_tables_(std::make_shared<ParquetTables>(
          settings.parquet_cache_bytes,
          [&settings](const std::string& url) { return fetch_whole(url, settings, kMostRefsFileBytes); })) {}

SetLoader::~SetLoader() = default;

Result<ReferenceSet> SetLoader::load(const std::string& refs) const {
  return format_of(refs).load(LoadContext{refs, settings_, sources_, parquet_tables_});
}

std::string SetLoader::watched_file(const std::string& refs) const { return format_of(refs).watched_file(refs); }

}  // namespace kerchunkfs::daemon
