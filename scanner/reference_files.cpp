#include "scanner/reference_files.h"

#include "scanner/parquet_references.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "refstore/compression.h"
#include "refstore/refstore.h"

namespace kerchunkfs::scanner {

common::Result<refstore::ReferenceMap> read_reference_file(const std::string& path) {
  refstore::LoadOptions options;
  const auto slash = path.rfind('/');
  options.relative_base = slash == std::string::npos ? "." : path.substr(0, slash);
  const auto loaded = refstore::RefStore::load_file(path, options);
  if (!loaded) return loaded.error();
  const refstore::RefStore& store = *loaded;
  refstore::ReferenceMap references;
  std::optional<common::Error> whole_file;
  store.for_each_entry([&](refstore::NodeId node, const refstore::Entry& entry) {
    switch (entry.kind) {
      case refstore::EntryKind::Inline:
        references.emplace(store.key(node), std::string(entry.data));
        break;
      case refstore::EntryKind::Range:
        references.emplace(store.key(node), refstore::RangeReference{store.url(entry.url), entry.offset, entry.length});
        break;
      case refstore::EntryKind::WholeFile:
        if (!whole_file) {
          whole_file = common::Error{
              path + ": " + store.key(node) + ": a whole-file reference [url] has no length to combine with", EINVAL};
        }
        break;
      case refstore::EntryKind::Directory:
        break;
    }
  });
  if (whole_file) return *whole_file;
  return references;
}

common::Status write_reference_file(const std::string& path, const refstore::ReferenceMap& references, int version,
                                    std::uint64_t record_size) {
  if (path.ends_with(".parq") || path.ends_with(".parq/"))
    return write_parquet_references(path, references, record_size);
  std::ostringstream text;
  refstore::write_references(text, references, version);
  const std::string bytes = refstore::compress(text.str(), refstore::compression_for_name(path));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return common::Error{path + ": cannot write: " + std::strerror(errno), errno};
  return common::Ok{};
}

}  // namespace kerchunkfs::scanner
