// URL scheme → ByteSource. A plain path counts as the "file" scheme.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fetch/byte_source.h"
#include "fetch/http_engine.h"
#include "fetch/object_store.h"

namespace kerchunkfs::fetch {

class SourceRegistry {
 public:
  void add(std::string scheme, std::shared_ptr<ByteSource> source);
  // nullptr when no source serves the URL's scheme.
  ByteSource* find(std::string_view url) const;
  std::string schemes() const;  // "file, http" for messages
  // Stops every source (see ByteSource::stop): no callback runs after this returns.
  void stop_all() const;
  // The counters of the HTTP engine every web and object-store source shares; null without one.
  const HttpCounters* http_counters() const { return engine_ ? &engine_->counters() : nullptr; }

  // The registry with every source this build supports; web and object-store sources share one
  // HttpEngine with the options `http` (so its connection bound covers them all),
  // local files are confined to `local_roots` when given (see LocalSource).
  static SourceRegistry with_default_sources(const HttpOptions& http = {}, const S3Options& s3 = {},
                                             std::optional<std::vector<std::string>> local_roots = std::nullopt);

 private:
  std::map<std::string, std::shared_ptr<ByteSource>, std::less<>> sources_;
  std::shared_ptr<HttpEngine> engine_;
};

}  // namespace kerchunkfs::fetch
