// One decoding step of a pipeline (codec/codec.h), and the numeric dtypes filters compute in.
// Private to codec/.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kerchunkfs::codec {

class Stage {
 public:
  virtual ~Stage() = default;
  virtual std::string_view id() const = 0;
  // The size of this stage's input for an output of `decoded` bytes; 0 where it cannot be known
  // (a compressor's input is whatever was stored).
  virtual std::size_t encoded_size(std::size_t decoded) const { return decoded; }
  // Exactly `output_size` bytes from `input` into `out`, or why not.
  // `out` is resized to exactly `output_size` (a buffer that is reused: its old bytes are not kept).
  [[nodiscard]] virtual common::Status decode(std::string_view input, std::size_t output_size,
                                              std::string& out) const = 0;
};

// A numeric dtype filters compute in: "<f8", ">i2", "|u1".
struct Numeric {
  char kind = 'f';  // 'i', 'u' or 'f'
  std::size_t size = 8;
  bool swapped = false;  // stored in the other byte order than this machine's
  std::string text;      // as written, for messages
};
[[nodiscard]] common::Result<Numeric> numeric(std::string_view dtype);

// The stages of the codecs this module decodes, from their numcodecs JSON configuration; an error
// names a codec id (or parameter) not decoded here.
// Swaps the bytes of each element of `element_size` bytes.
std::unique_ptr<Stage> byte_swap_stage(std::size_t element_size);

// numcodecs lets any codec be the compressor or a filter (kerchunk lists HDF5's deflate among the
// filters), so one factory serves both.
[[nodiscard]] common::Result<std::unique_ptr<Stage>> make_stage(std::string_view id, simdjson::dom::object config);
// The compressors among them (codec/compressors.cpp); nothing for another id.
[[nodiscard]] std::unique_ptr<Stage> compressor_stage(std::string_view id, simdjson::dom::object config,
                                                      common::Error& refused);

}  // namespace kerchunkfs::codec
