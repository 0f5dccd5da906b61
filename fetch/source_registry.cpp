#include "fetch/source_registry.h"

#include <cctype>

#include "fetch/http_source.h"
#include "fetch/local_source.h"
#include "fetch/url.h"

namespace kerchunkfs::fetch {

void SourceRegistry::add(std::string scheme, std::shared_ptr<ByteSource> source) {
  sources_.insert_or_assign(std::move(scheme), std::move(source));
}

ByteSource* SourceRegistry::find(std::string_view url) const {
  const auto found = sources_.find(url_scheme(url));
  return found == sources_.end() ? nullptr : found->second.get();
}

std::string SourceRegistry::schemes() const {
  std::string out;
  for (const auto& [scheme, source] : sources_) out += (out.empty() ? "" : ", ") + scheme;
  return out;
}

void SourceRegistry::stop_all() const {
  for (const auto& [scheme, source] : sources_) source->stop();
}

SourceRegistry SourceRegistry::with_default_sources(const HttpOptions& http, const S3Options& s3,
                                                    std::optional<std::vector<std::string>> local_roots) {
  SourceRegistry registry;
  registry.add("file", std::make_shared<LocalSource>(std::move(local_roots)));
  registry.engine_ = std::make_shared<HttpEngine>(http);
  auto web = std::make_shared<HttpSource>(registry.engine_);
  registry.add("http", web);
  registry.add("https", web);
  registry.add("s3", ObjectStoreSource::s3(s3, registry.engine_));
  auto gcs = ObjectStoreSource::gcs(registry.engine_);
  registry.add("gs", gcs);
  registry.add("gcs", gcs);
  return registry;
}

}  // namespace kerchunkfs::fetch
