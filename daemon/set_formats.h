// The reference-set formats the daemon mounts, one line each in set_formats.cpp's table: what
// recognises a set given as REFS (a path or a URL), and the loader that makes it the
// ReferenceSet (daemon/reference_set.h) the file system serves. Adding a format is a file of its
// own with its loader, a line in the table, and its tests (CONTRIBUTING.md).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "daemon/options.h"
#include "daemon/reference_set.h"
#include "fetch/source_registry.h"

namespace kerchunkfs::daemon {

class ParquetTables;

// Loads reference sets for one mount: at mount and at every reload, keeping what the formats
// share across generations (a parquet set's decoded record files).
class SetLoader {
 public:
  // `sources` are the mount's, for checking targets against the untrusted-set policy.
  SetLoader(const Settings& settings, const fetch::SourceRegistry& sources);
  ~SetLoader();
  SetLoader(const SetLoader&) = delete;
  SetLoader& operator=(const SetLoader&) = delete;

  // The set at `refs`, checked against the target policy (a format that reads its chunk
  // references later checks them as it reads); or why it is refused, naming REFS.
  [[nodiscard]] common::Result<ReferenceSet> load(const std::string& refs) const;
  // The local file whose change means the set at `refs` changed (-o watch): the file itself, or
  // the file a format's writers write last.
  std::string watched_file(const std::string& refs) const;

 private:
  const Settings& settings_;
  const fetch::SourceRegistry& sources_;
  std::shared_ptr<ParquetTables> parquet_tables_;
};

// Sources made as the mount's are, from the same options, for one load or one version check: the
// mount's engine pins every object to the version it first read (a changed target is an error,
// not bytes of another version), and a set that changed is what a reload is for; and at mount,
// before the daemon forks into the background, no thread of theirs must be left to lose.
fetch::SourceRegistry sources_like_the_mounts(const Settings& settings);

// Where relative targets of the set at `refs` start: its folder, or its URL's.
std::string base_of(const std::string& refs);

}  // namespace kerchunkfs::daemon
