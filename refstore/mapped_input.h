// A reference file as simdjson input, without copying it: a regular file is mapped read-only
// into a reservation whose tail past the file's last page is anonymous zero memory, which gives
// simdjson the padding it reads past the end. Pipes and other streams are read into memory, and
// so are compressed reference sets (gzip, zstd), decompressed.
#pragma once

#include <simdjson.h>

#include <string>

namespace kerchunkfs::refstore {

class MappedInput {
 public:
  // Throws LoadError naming the path when it cannot be opened or read.
  explicit MappedInput(const std::string& path);
  MappedInput(const MappedInput&) = delete;
  MappedInput& operator=(const MappedInput&) = delete;
  ~MappedInput();

  simdjson::padded_string_view view() const;

 private:
  void decompress_if_needed(const std::string& path);

  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
  std::size_t size_ = 0;
  simdjson::padded_string streamed_;  // used when the input is not a regular file
};

}  // namespace kerchunkfs::refstore
