// The filters numcodecs defines that undo with arithmetic, done here: shuffle, delta,
// fixedscaleoffset, astype, quantize, bitround, crc32 and adler32. Numeric filters compute the
// way numpy does in numcodecs (the same dtype for accumulation, the same float width).
#include <zlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "codec/numeric.h"
#include "codec/stage.h"

namespace kerchunkfs::codec {
namespace {

using common::Error;
using common::Result;

Error wrong_input(std::string_view id, std::size_t got, std::size_t expected) {
  return Error{std::string(id) + " expects " + std::to_string(expected) + " bytes and was given " +
               std::to_string(got)};
}

// A filter from elements of one numeric dtype to another's; `body(from, to, in, out, count)` is
// called with a value of each C++ type.
class NumericFilter : public Stage {
 public:
  NumericFilter(std::string_view name, Numeric decoded, Numeric encoded)
      : id_(name), decoded_(std::move(decoded)), encoded_(std::move(encoded)) {}
  std::string_view id() const override { return id_; }
  std::size_t encoded_size(std::size_t decoded) const override { return decoded / decoded_.size * encoded_.size; }

 protected:
  template <class Body>
  common::Status each_type(std::string_view input, std::size_t output_size, std::string& out, Body&& body) const {
    if (output_size % decoded_.size != 0 || input.size() != encoded_size(output_size)) {
      return wrong_input(id_, input.size(), encoded_size(output_size));
    }
    out.resize(output_size);
    const std::size_t count = output_size / decoded_.size;
    with_type(encoded_, [&](auto from) {
      with_type(decoded_, [&](auto to) { body(from, to, input.data(), out.data(), count); });
    });
    return common::Ok{};
  }
  // Each element on its own: `convert(value, To{})` gives the decoded element of the stored one.
  template <class Convert>
  common::Status each_element(std::string_view input, std::size_t output_size, std::string& out,
                              Convert&& convert) const {
    return each_type(
        input, output_size, out, [&](auto from, auto to, const char* in, char* to_bytes, std::size_t count) {
          using From = decltype(from);
          using To = decltype(to);
          for (std::size_t i = 0; i < count; ++i) {
            store<To>(to_bytes + i * sizeof(To), convert(load<From>(in + i * sizeof(From), encoded_.swapped), To{}),
                      decoded_.swapped);
          }
        });
  }
  std::string id_;
  Numeric decoded_, encoded_;
};

// Delta: a running sum of the stored differences, accumulated in the decoded dtype.
class Delta final : public NumericFilter {
 public:
  using NumericFilter::NumericFilter;
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    return each_type(input, output_size, out,
                     [this](auto from, auto to, const char* in, char* to_bytes, std::size_t count) {
                       using From = decltype(from);
                       using To = decltype(to);
                       To sum{};
                       for (std::size_t i = 0; i < count; ++i) {
                         sum = add<To>(sum, cast_as<To>(load<From>(in + i * sizeof(From), encoded_.swapped)));
                         store<To>(to_bytes + i * sizeof(To), sum, decoded_.swapped);
                       }
                     });
  }
};

// FixedScaleOffset: stored / scale + offset, computed as numpy computes it (in the stored float
// type, or in double for stored integers), then cast to the decoded dtype.
class FixedScaleOffset final : public NumericFilter {
 public:
  FixedScaleOffset(Numeric decoded, Numeric encoded, double scale, double offset)
      : NumericFilter("fixedscaleoffset", std::move(decoded), std::move(encoded)), scale_(scale), offset_(offset) {}
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    return each_element(input, output_size, out, [this](auto value, auto to) {
      using Compute = std::conditional_t<std::is_same_v<decltype(value), float>, float, double>;
      return cast_as<decltype(to)>(static_cast<Compute>(value) / static_cast<Compute>(scale_) +
                                   static_cast<Compute>(offset_));
    });
  }

 private:
  double scale_, offset_;
};

// AsType and Quantize: decoding is a cast from the stored dtype (Quantize's precision is lost
// when encoding and stays lost).
class Cast final : public NumericFilter {
 public:
  using NumericFilter::NumericFilter;
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    return each_element(input, output_size, out, [](auto value, auto to) { return cast_as<decltype(to)>(value); });
  }
};

// Filters that leave the bytes as they are when decoding (BitRound: the bits are dropped when
// encoding).
class Identity final : public Stage {
 public:
  explicit Identity(std::string_view name) : id_(name) {}
  std::string_view id() const override { return id_; }
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    if (input.size() != output_size) return wrong_input(id_, input.size(), output_size);
    out.assign(input);
    return common::Ok{};
  }

 private:
  std::string id_;
};

// Unshuffling 16 elements at a time: 16 bytes from each byte plane, interleaved in registers
// (SSE2, which every x86-64 has) and written out in order; the remainder byte by byte.
template <std::size_t N>
void unshuffle(const char* in, char* out, std::size_t count) {
  std::size_t i = 0;
#ifdef __SSE2__
  const auto plane = [&](std::size_t b) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + b * count + i));
  };
  auto* target = reinterpret_cast<__m128i*>(out);
  for (; i + 16 <= count; i += 16) {
    __m128i* to = target + i * N / 16;
    if constexpr (N == 2) {
      const __m128i a = plane(0), b = plane(1);
      _mm_storeu_si128(to, _mm_unpacklo_epi8(a, b));
      _mm_storeu_si128(to + 1, _mm_unpackhi_epi8(a, b));
    } else if constexpr (N == 4) {
      const __m128i a = plane(0), b = plane(1), c = plane(2), d = plane(3);
      const __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
      const __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
      _mm_storeu_si128(to, _mm_unpacklo_epi16(ab_lo, cd_lo));
      _mm_storeu_si128(to + 1, _mm_unpackhi_epi16(ab_lo, cd_lo));
      _mm_storeu_si128(to + 2, _mm_unpacklo_epi16(ab_hi, cd_hi));
      _mm_storeu_si128(to + 3, _mm_unpackhi_epi16(ab_hi, cd_hi));
    } else {
      static_assert(N == 8);
      __m128i pairs[8];  // planes 2k and 2k+1 interleaved: low and high halves
      for (std::size_t k = 0; k < 4; ++k) {
        const __m128i x = plane(2 * k), y = plane(2 * k + 1);
        pairs[2 * k] = _mm_unpacklo_epi8(x, y);
        pairs[2 * k + 1] = _mm_unpackhi_epi8(x, y);
      }
      for (std::size_t half = 0; half < 2; ++half) {
        const __m128i p01 = pairs[half], p23 = pairs[2 + half], p45 = pairs[4 + half], p67 = pairs[6 + half];
        const __m128i quads[4] = {_mm_unpacklo_epi16(p01, p23), _mm_unpackhi_epi16(p01, p23),
                                  _mm_unpacklo_epi16(p45, p67), _mm_unpackhi_epi16(p45, p67)};
        for (std::size_t q = 0; q < 2; ++q) {
          _mm_storeu_si128(to + half * 4 + q * 2, _mm_unpacklo_epi32(quads[q], quads[2 + q]));
          _mm_storeu_si128(to + half * 4 + q * 2 + 1, _mm_unpackhi_epi32(quads[q], quads[2 + q]));
        }
      }
    }
  }
#endif
  for (; i < count; ++i) {
    for (std::size_t b = 0; b < N; ++b) out[i * N + b] = in[b * count + i];
  }
}

// Shuffle: byte j of every element was stored together; bytes past the last whole element stay
// where they are (as HDF5's shuffle leaves them).
class Shuffle final : public Stage {
 public:
  explicit Shuffle(std::size_t element_size) : element_size_(element_size) {}
  std::string_view id() const override { return "shuffle"; }
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    if (input.size() != output_size) return wrong_input("shuffle", input.size(), output_size);
    out.resize(output_size);
    const std::size_t count = output_size / element_size_;
    switch (element_size_) {
      case 2:
        unshuffle<2>(input.data(), out.data(), count);
        break;
      case 4:
        unshuffle<4>(input.data(), out.data(), count);
        break;
      case 8:
        unshuffle<8>(input.data(), out.data(), count);
        break;
      default:
        for (std::size_t byte = 0; byte < element_size_; ++byte) {
          const char* from = input.data() + byte * count;
          for (std::size_t i = 0; i < count; ++i) out[i * element_size_ + byte] = from[i];
        }
    }
    const std::size_t whole = count * element_size_;
    std::copy(input.begin() + static_cast<std::ptrdiff_t>(whole), input.end(),
              out.begin() + static_cast<std::ptrdiff_t>(whole));
    return common::Ok{};
  }

 private:
  std::size_t element_size_;
};

// Big-endian elements to little-endian ones (not a numcodecs codec: the decoded view's last step).
class ByteSwap final : public Stage {
 public:
  explicit ByteSwap(std::size_t element_size) : element_size_(element_size) {}
  std::string_view id() const override { return "byte order"; }
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    if (input.size() != output_size || output_size % element_size_ != 0) {
      return wrong_input("byte order", input.size(), output_size);
    }
    out.assign(input);
    for (std::size_t at = 0; at < out.size(); at += element_size_) {
      std::reverse(out.begin() + static_cast<std::ptrdiff_t>(at),
                   out.begin() + static_cast<std::ptrdiff_t>(at + element_size_));
    }
    return common::Ok{};
  }

 private:
  std::size_t element_size_;
};

// numcodecs' CRC32 and Adler32: a 4-byte little-endian checksum of the data, then the data.
class Checksum final : public Stage {
 public:
  explicit Checksum(std::string_view name) : id_(name) {}
  std::string_view id() const override { return id_; }
  std::size_t encoded_size(std::size_t decoded) const override { return decoded + 4; }
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    if (input.size() != output_size + 4) return wrong_input(id_, input.size(), output_size + 4);
    const auto* data = reinterpret_cast<const Bytef*>(input.data() + 4);
    const auto length = static_cast<uInt>(output_size);
    const std::uint32_t actual = id_ == "crc32" ? crc32(0, data, length) : adler32(1, data, length);
    if (load<std::uint32_t>(input.data(), std::endian::native != std::endian::little) != actual) {
      return Error{id_ + ": checksum does not match (corrupt chunk)"};
    }
    out.assign(input.substr(4));
    return common::Ok{};
  }

 private:
  std::string id_;
};

// HDF5's fletcher32 filter (numcodecs >= 0.12 calls it "fletcher32"): the data, then a checksum
// of it, little-endian. The sum runs over big-endian 16-bit words (an odd last byte as the high
// byte of a word), both sums folded to 16 bits every 360 words so they cannot overflow.
class Fletcher32 final : public Stage {
 public:
  std::string_view id() const override { return "fletcher32"; }
  std::size_t encoded_size(std::size_t decoded) const override { return decoded + 4; }
  common::Status decode(std::string_view input, std::size_t output_size, std::string& out) const override {
    if (input.size() != output_size + 4) return wrong_input("fletcher32", input.size(), output_size + 4);
    const std::string_view data = input.substr(0, output_size);
    if (load<std::uint32_t>(input.data() + output_size, std::endian::native != std::endian::little) != sum(data)) {
      return Error{"checksum does not match (corrupt chunk)"};  // the pipeline names the stage
    }
    out.assign(data);
    return common::Ok{};
  }

 private:
  static std::uint32_t sum(std::string_view data) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    std::uint32_t low = 0, high = 0;
    const auto fold = [](std::uint32_t value) { return (value & 0xffff) + (value >> 16); };
    std::size_t words = data.size() / 2;
    while (words > 0) {
      const std::size_t run = std::min<std::size_t>(words, 360);
      for (std::size_t i = 0; i < run; ++i, bytes += 2) {
        low += (std::uint32_t{bytes[0]} << 8) | bytes[1];
        high += low;
      }
      words -= run;
      low = fold(low);
      high = fold(high);
    }
    if (data.size() % 2 != 0) {
      low += std::uint32_t{bytes[0]} << 8;
      high += low;
      low = fold(low);
      high = fold(high);
    }
    return (fold(high) << 16) | fold(low);
  }
};

Result<Numeric> numeric_field(simdjson::dom::object config, const char* field, std::string_view id,
                              const char* fallback_field = nullptr) {
  std::string_view text;
  if (config[field].get(text) && (fallback_field == nullptr || config[fallback_field].get(text))) {
    return Error{std::string(id) + ": no \"" + field + "\" dtype"};
  }
  auto type = numeric(text);
  if (!type) return common::wrap(type.error(), std::string(id));
  return type;
}

double number_or(simdjson::dom::object config, const char* field, double fallback) {
  double value = fallback;
  if (config[field].get(value)) {
    std::int64_t whole = 0;
    if (!config[field].get(whole)) value = static_cast<double>(whole);
  }
  return value;
}

}  // namespace

std::unique_ptr<Stage> byte_swap_stage(std::size_t element_size) { return std::make_unique<ByteSwap>(element_size); }

Result<Numeric> numeric(std::string_view dtype) {
  Numeric type;
  type.text = std::string(dtype);
  std::string_view rest = dtype;
  char order = '=';
  if (!rest.empty() && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=')) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  if (rest.size() != 2 || (rest[0] != 'i' && rest[0] != 'u' && rest[0] != 'f') ||
      (rest[1] != '1' && rest[1] != '2' && rest[1] != '4' && rest[1] != '8') || (rest[0] == 'f' && rest[1] < '4')) {
    return Error{"dtype " + type.text + " is not an integer or float dtype"};
  }
  type.kind = rest[0];
  type.size = static_cast<std::size_t>(rest[1] - '0');
  const bool big = order == '>';
  type.swapped = type.size > 1 && order != '|' && order != '=' && big != (std::endian::native == std::endian::big);
  return type;
}

Result<std::unique_ptr<Stage>> make_stage(std::string_view id, simdjson::dom::object config) {
  Error refused;
  if (auto stage = compressor_stage(id, config, refused)) return stage;
  if (!refused.message.empty()) return refused;
  if (id == "shuffle") {
    std::uint64_t element_size = 4;
    if (const auto value = config["elementsize"]; !value.error() && value.get_uint64().get(element_size)) {
      return Error{"shuffle: elementsize is not a number"};
    }
    if (element_size == 0 || element_size > 1024) return Error{"shuffle: elementsize " + std::to_string(element_size)};
    return std::unique_ptr<Stage>(std::make_unique<Shuffle>(element_size));
  }
  if (id == "bitround") return std::unique_ptr<Stage>(std::make_unique<Identity>(id));
  if (id == "crc32" || id == "adler32") return std::unique_ptr<Stage>(std::make_unique<Checksum>(id));
  if (id == "fletcher32") return std::unique_ptr<Stage>(std::make_unique<Fletcher32>());
  if (id == "delta" || id == "fixedscaleoffset" || id == "quantize" || id == "astype") {
    const bool astype = id == "astype";
    auto decoded = numeric_field(config, astype ? "decode_dtype" : "dtype", id);
    if (!decoded) return decoded.error();
    auto encoded = numeric_field(config, astype ? "encode_dtype" : "astype", id, astype ? nullptr : "dtype");
    if (!encoded) return encoded.error();
    if (id == "fixedscaleoffset") {
      const double scale = number_or(config, "scale", 1.0);
      if (scale == 0 || !std::isfinite(scale)) return Error{"fixedscaleoffset: scale must be a non-zero number"};
      return std::unique_ptr<Stage>(
          std::make_unique<FixedScaleOffset>(*decoded, *encoded, scale, number_or(config, "offset", 0.0)));
    }
    if (id == "delta") return std::unique_ptr<Stage>(std::make_unique<Delta>(id, *decoded, *encoded));
    return std::unique_ptr<Stage>(std::make_unique<Cast>(id, *decoded, *encoded));
  }
  return Error{"codec \"" + std::string(id) + "\" is not decoded by kerchunkfs"};
}

}  // namespace kerchunkfs::codec
