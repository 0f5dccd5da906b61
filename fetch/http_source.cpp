#include "fetch/http_source.h"

namespace kerchunkfs::fetch {

HttpSource::HttpSource(std::shared_ptr<HttpEngine> engine, RequestSigner signer)
    : engine_(std::move(engine)),
      signer_(signer ? std::make_shared<const RequestSigner>(std::move(signer)) : nullptr) {}

void HttpSource::read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) {
  engine_->read(HttpRequest{url, offset, length, {}, signer_}, std::move(done));
}

void HttpSource::read_streaming(const std::string& url, std::uint64_t offset, std::size_t length, Progress progress,
                                ReadDone done) {
  engine_->read(HttpRequest{url, offset, length, std::move(progress), signer_}, std::move(done));
}

void HttpSource::size(const std::string& url, SizeDone done) { engine_->size(url, signer_, std::move(done)); }

}  // namespace kerchunkfs::fetch
