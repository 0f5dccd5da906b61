#include "refstore/read_window.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

namespace kerchunkfs::refstore {

ReadWindow::ReadWindow(std::size_t capacity, std::uint64_t document_size, Read read)
    : capacity_(std::max<std::size_t>(capacity, 1)),
      document_size_(document_size),
      read_(std::move(read)),
      buffer_(new char[capacity_ + simdjson::SIMDJSON_PADDING]) {
  std::memset(buffer_.get(), 0, simdjson::SIMDJSON_PADDING);
}

void ReadWindow::move_to(std::uint64_t offset) {
  offset = std::min(offset, document_size_);
  std::size_t kept = 0;
  if (offset >= offset_ && offset <= offset_ + size_) {
    kept = static_cast<std::size_t>(offset_ + size_ - offset);
    std::memmove(buffer_.get(), buffer_.get() + (offset - offset_), kept);
  }
  const std::size_t wanted =
      static_cast<std::size_t>(std::min<std::uint64_t>(capacity_ - kept, document_size_ - offset - kept));
  offset_ = offset;
  size_ = kept;
  if (wanted > 0) read_(offset + kept, buffer_.get() + kept, wanted);
  size_ = kept + wanted;
  std::memset(buffer_.get() + size_, 0, simdjson::SIMDJSON_PADDING);
}

}  // namespace kerchunkfs::refstore
