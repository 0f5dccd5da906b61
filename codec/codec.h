// Decoding stored zarr v2 chunks into the raw bytes of the array, for the numcodecs codecs whose
// decoding Debian's libraries or a few lines of arithmetic can do: zlib, gzip, bz2, lzma, zstd,
// lz4 (numcodecs' framing), blosc (every inner compressor and shuffle mode), shuffle, delta,
// fixedscaleoffset, astype, quantize, bitround, crc32 and adler32.
//
// Every stage knows the exact size its output must have (zarr stores whole chunks, so a chunk
// decodes to chunks × itemsize bytes, and each filter's encoded size follows from its dtypes), and
// never writes past it: a stored chunk that decodes to any other size, or whose decompression
// would run past it (a "bomb"), is an error, never a short, padded or unbounded result.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/zarr_array.h"

namespace kerchunkfs::codec {

// Bytes one element of a zarr v2 dtype takes: "<f4" 4, "|S10" 10, "<U3" 12, a structured dtype the
// sum of its fields. Fails for what has no fixed size ("|O", variable-length strings).
[[nodiscard]] common::Result<std::size_t> dtype_size(std::string_view dtype_json);

class Stage;

class Pipeline {
 public:
  // The decoding of `meta`'s chunks: its compressor, then its filters in reverse order; with
  // `little_endian`, then a byte swap of big-endian integers, floats and times (readers such as
  // NCZarr 4.9 misread big-endian arrays). Fails naming the first codec (or parameter) not
  // decoded here, or a dtype without a fixed size.
  [[nodiscard]] static common::Result<Pipeline> of(const common::ArrayMeta& meta, bool little_endian = false);

  bool empty() const { return steps_.empty(); }               // the chunks are stored raw already
  std::size_t decoded_size() const { return decoded_size_; }  // of one chunk
  // Exactly decoded_size() bytes, or an error naming the codec that failed and why.
  [[nodiscard]] common::Result<std::string> decode(std::string_view stored) const;
  // The codec ids in decoding order, "zlib, shuffle".
  std::string describe() const;
  // The dtype of the decoded bytes, as JSON ("<f4"): the array's, or its little-endian form.
  const std::string& dtype() const { return dtype_; }

 private:
  struct Step {
    std::shared_ptr<const Stage> stage;
    std::size_t output_size = 0;
  };
  std::vector<Step> steps_;  // in decoding order
  std::size_t decoded_size_ = 0;
  std::string dtype_;
};

// CF packing, as xarray undoes it when it opens a variable: values equal to a fill value
// (_FillValue, missing_value) become NaN, then value × scale_factor + add_offset, computed in the
// float dtype xarray chooses for the stored one.
struct Packing {
  std::vector<double> fill_values;  // NaN fills left out: NaN stays NaN
  std::optional<double> scale_factor, add_offset;
  bool empty() const { return fill_values.empty() && !scale_factor && !add_offset; }
  // From a .zattrs document's scale_factor, add_offset, _FillValue and missing_value (numbers or
  // lists of them), and the .zarray's fill value, which xarray takes for _FillValue; an error
  // names the attribute that is neither.
  [[nodiscard]] static common::Result<Packing> of_attributes(std::string_view zattrs_json,
                                                             std::string_view fill_value_json = "null");
};

// One element of `dtype_json` holding the fill value `fill_json` (a number, "NaN", "Infinity",
// "-Infinity"); zero bytes for null, and for dtypes other than integers and floats.
[[nodiscard]] common::Result<std::string> fill_element(std::string_view dtype_json, std::string_view fill_json);

// The dtype numpy joins integer and float dtypes (JSON) into, little-endian: what concatenating
// them gives.
[[nodiscard]] common::Result<std::string> common_dtype(std::span<const std::string> dtype_jsons);

// Elements of one numeric dtype turned into another, unpacked on the way.
class ElementConverter {
 public:
  // `from` and `to` are dtype JSON ("\"<i2\""): integers and floats of either byte order.
  [[nodiscard]] static common::Result<ElementConverter> make(std::string_view from, std::string_view to,
                                                             const Packing& packing);
  // The dtype JSON xarray gives a variable of `dtype` packed with `packing` ("\"<f4\"").
  [[nodiscard]] static common::Result<std::string> unpacked_dtype(std::string_view dtype, const Packing& packing);

  std::size_t from_size() const;
  std::size_t to_size() const;
  void convert(const char* in, char* out, std::size_t count) const;

 private:
  struct Types;
  std::shared_ptr<const Types> types_;
  Packing packing_;
};

}  // namespace kerchunkfs::codec
