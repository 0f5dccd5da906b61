// http:// and https:// URLs, read through the process's shared HttpEngine.
#pragma once

#include <memory>
#include <string>

#include "fetch/byte_source.h"
#include "fetch/http_engine.h"

namespace kerchunkfs::fetch {

class HttpSource final : public ByteSource {
 public:
  // `signer`, when given, signs every attempt of every request this source makes.
  explicit HttpSource(std::shared_ptr<HttpEngine> engine, RequestSigner signer = {});

  void read(const std::string& url, std::uint64_t offset, std::size_t length, ReadDone done) override;
  // The object's size, from a one-byte ranged GET (HEAD is not always allowed where GET is).
  void size(const std::string& url, SizeDone done) override;
  // Streams once the first body byte shows a 206 for exactly the requested range; any other
  // answer is judged whole, at the end, as read() does.
  void read_streaming(const std::string& url, std::uint64_t offset, std::size_t length, Progress progress,
                      ReadDone done) override;
  void pin_version(const std::string& url, const std::string& validator) override {
    engine_->pin_version(url, validator);
  }
  void stop() override { engine_->stop(); }

 private:
  std::shared_ptr<HttpEngine> engine_;
  std::shared_ptr<const RequestSigner> signer_;
};

}  // namespace kerchunkfs::fetch
