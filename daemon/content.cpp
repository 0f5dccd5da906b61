#include "daemon/content.h"

#include <algorithm>

#include "daemon/readahead.h"

namespace kerchunkfs::daemon {
namespace {

using common::Error;
using common::Result;

std::span<const char> slice(std::string_view bytes, std::uint64_t offset, std::size_t length) {
  if (offset >= bytes.size()) return {};
  return {bytes.data() + offset, std::min<std::uint64_t>(length, bytes.size() - offset)};
}

// Bytes [offset, offset + length) of a local extent as a file slice, when the file holds all of
// them (a file that ends early is read() and reported as always).
std::optional<fetch::FileSlice> whole_slice(const fetch::Fetcher& fetcher, const fetch::Extent& extent,
                                            std::uint64_t offset, std::size_t length) {
  if (offset >= extent.length) return std::nullopt;
  const std::size_t wanted = std::min<std::uint64_t>(length, extent.length - offset);
  auto slice = fetcher.file_slice(extent, offset, wanted);
  if (!slice || !*slice || (*slice)->length != wanted) return std::nullopt;
  return std::move(**slice);
}

// Bytes held elsewhere (a view), or by the content itself (`owned`).
class InlineContent final : public Content {
 public:
  explicit InlineContent(std::string_view bytes) : bytes_(bytes) {}
  explicit InlineContent(std::string owned) : owned_(std::move(owned)), bytes_(owned_) {}
  void size(ContentSize done) const override { done(std::uint64_t{bytes_.size()}); }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    done(slice(bytes_, offset, length));
  }

 private:
  const std::string owned_;
  const std::string_view bytes_;
};

class ErrorContent final : public Content {
 public:
  explicit ErrorContent(std::string message) : message_(std::move(message)) {}
  void size(ContentSize done) const override { done(Error{message_}); }
  void read(std::uint64_t, std::size_t, ContentRead done) const override { done(Error{message_}); }

 private:
  std::string message_;
};

class LiveTextContent final : public Content {
 public:
  LiveTextContent(std::function<std::string()> make, std::uint64_t shown_size)
      : make_(std::move(make)), shown_size_(shown_size) {}
  void size(ContentSize done) const override { done(shown_size_); }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    const std::string text = make_();
    done(slice(text, offset, length));
  }
  bool is_live() const override { return true; }

 private:
  std::function<std::string()> make_;
  std::uint64_t shown_size_;
};

class RangeContent final : public Content {
 public:
  RangeContent(const ReadPath& path, std::uint32_t node, const fetch::Extent& extent)
      : path_(path), node_(node), extent_(extent) {}
  void size(ContentSize done) const override { done(extent_.length); }
  std::optional<fetch::FileSlice> file_slice(std::uint64_t offset, std::size_t length) const override {
    return whole_slice(path_.fetcher, extent_, offset, length);
  }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    if (offset >= extent_.length) return done(std::span<const char>{});
    const std::size_t wanted = std::min<std::uint64_t>(length, extent_.length - offset);
    // The read's own bytes are asked for first: requests go out in the order they are made, so
    // read-ahead must not queue ahead of what a reader waits for.
    path_.fetcher.read(
        extent_, offset, wanted, [wanted, done = std::move(done)](const Result<std::span<const char>>& bytes) {
          if (bytes && bytes->size() != wanted) {
            return done(Error{"target ends before the referenced range: got " + std::to_string(bytes->size()) + " of " +
                              std::to_string(wanted) + " bytes"});
          }
          done(bytes);
        });
    path_.readahead.on_read(path_.fetcher, path_.targets, node_, extent_, offset, wanted);
  }

 private:
  const ReadPath& path_;  // the generation's, which outlives its contents
  std::uint32_t node_;
  fetch::Extent extent_;
};

class WholeFileContent final : public Content {
 public:
  WholeFileContent(const ReadPath& path, std::uint32_t node, const fetch::Target& target)
      : path_(path), node_(node), target_(target) {}
  void size(ContentSize done) const override { path_.fetcher.size(target_, std::move(done)); }
  std::optional<fetch::FileSlice> file_slice(std::uint64_t offset, std::size_t length) const override {
    const std::int64_t size = target_.size.load();
    if (size < 0) return std::nullopt;  // not known yet: read() asks
    return whole_slice(path_.fetcher, fetch::Extent{&target_, 0, static_cast<std::uint64_t>(size)}, offset, length);
  }
  void read(std::uint64_t offset, std::size_t length, ContentRead done) const override {
    size([this, offset, length, done = std::move(done)](Result<std::uint64_t> total) {
      if (!total) return done(total.error());
      const fetch::Extent extent{&target_, 0, *total};
      path_.fetcher.read(extent, offset, length, done);  // first, as for a range
      if (offset < *total) path_.readahead.on_read(path_.fetcher, path_.targets, node_, extent, offset, length);
    });
  }

 private:
  const ReadPath& path_;  // the generation's, which outlives its contents
  std::uint32_t node_;
  const fetch::Target& target_;
};

}  // namespace

std::unique_ptr<Content> inline_content(std::string_view bytes) { return std::make_unique<InlineContent>(bytes); }

std::unique_ptr<Content> owned_inline_content(std::string bytes) {
  return std::make_unique<InlineContent>(std::move(bytes));
}

std::unique_ptr<Content> error_content(std::string message) {
  return std::make_unique<ErrorContent>(std::move(message));
}

std::unique_ptr<Content> live_text_content(std::function<std::string()> make, std::uint64_t shown_size) {
  return std::make_unique<LiveTextContent>(std::move(make), shown_size);
}

std::unique_ptr<Content> range_content(const ReadPath& path, std::uint32_t node, const fetch::Extent& extent) {
  return std::make_unique<RangeContent>(path, node, extent);
}

std::unique_ptr<Content> whole_file_content(const ReadPath& path, std::uint32_t node, const fetch::Target& target) {
  return std::make_unique<WholeFileContent>(path, node, target);
}

}  // namespace kerchunkfs::daemon
