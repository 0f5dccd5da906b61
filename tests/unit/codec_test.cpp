// The decoders against Debian's compressors (an independent encoder for each codec), their size
// guarantees (no short, padded or unbounded result), and the numeric filters and unpacking.
#include "codec/codec.h"

#include <blosc.h>
#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace kerchunkfs;

namespace {

common::ArrayMeta meta_of(const std::string& dtype, std::uint64_t count, const std::string& compressor,
                          const std::string& filters = "null") {
  common::ArrayMeta meta;
  meta.shape = meta.chunks = {count};
  meta.dtype = "\"" + dtype + "\"";
  meta.compressor = compressor;
  meta.filters = filters;
  return meta;
}

std::string decode(const common::ArrayMeta& meta, const std::string& stored) {
  const auto pipeline = codec::Pipeline::of(meta);
  REQUIRE(pipeline);
  const auto decoded = pipeline->decode(stored);
  return decoded ? *decoded : "error: " + decoded.error().message;
}

// 4000 bytes that compress well.
std::string sample(std::size_t size = 4000) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i / 16) % 7);
  return bytes;
}

std::string zlib_encode(const std::string& raw, int window_bits) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, raw.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string bz2_encode(const std::string& raw) {
  std::string out(raw.size() * 2 + 600, '\0');
  auto length = static_cast<unsigned>(out.size());
  REQUIRE(BZ2_bzBuffToBuffCompress(out.data(), &length, const_cast<char*>(raw.data()),
                                   static_cast<unsigned>(raw.size()), 5, 0, 0) == BZ_OK);
  out.resize(length);
  return out;
}

std::string xz_encode(const std::string& raw) {
  std::string out(lzma_stream_buffer_bound(raw.size()), '\0');
  std::size_t used = 0;
  REQUIRE(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const std::uint8_t*>(raw.data()),
                                  raw.size(), reinterpret_cast<std::uint8_t*>(out.data()), &used,
                                  out.size()) == LZMA_OK);
  out.resize(used);
  return out;
}

std::string zstd_encode(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const std::size_t used = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3);
  REQUIRE(ZSTD_isError(used) == 0U);
  out.resize(used);
  return out;
}

std::string lz4_encode(const std::string& raw) {
  std::string out(4 + LZ4_compressBound(static_cast<int>(raw.size())), '\0');
  const auto size = static_cast<std::uint32_t>(raw.size());
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((size >> (8 * i)) & 0xFF);
  const int used =
      LZ4_compress_default(raw.data(), out.data() + 4, static_cast<int>(raw.size()), static_cast<int>(out.size() - 4));
  REQUIRE(used > 0);
  out.resize(4 + static_cast<std::size_t>(used));
  return out;
}

std::string blosc_encode(const std::string& raw, int shuffle, const char* compressor) {
  std::string out(raw.size() + BLOSC_MAX_OVERHEAD, '\0');
  const int used = blosc_compress_ctx(5, shuffle, 4, raw.size(), raw.data(), out.data(), out.size(), compressor, 0, 1);
  REQUIRE(used > 0);
  out.resize(static_cast<std::size_t>(used));
  return out;
}

}  // namespace

TEST_CASE("each compressor decodes what its library encoded, to exactly one chunk") {
  const std::string raw = sample();
  const struct {
    const char* codec;
    std::string stored;
  } cases[] = {
      {R"({"id": "zlib", "level": 6})", zlib_encode(raw, 15)},
      {R"({"id": "gzip", "level": 6})", zlib_encode(raw, 31)},
      {R"({"id": "bz2", "level": 5})", bz2_encode(raw)},
      {R"({"id": "lzma", "format": 1, "check": -1, "preset": null, "filters": null})", xz_encode(raw)},
      {R"({"id": "zstd", "level": 3})", zstd_encode(raw)},
      {R"({"id": "lz4", "acceleration": 1})", lz4_encode(raw)},
      {R"({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0})", blosc_encode(raw, 1, "lz4")},
      {R"({"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 2, "blocksize": 0})", blosc_encode(raw, 2, "zstd")},
      {R"({"id": "blosc", "cname": "snappy", "clevel": 5, "shuffle": 0, "blocksize": 0})",
       blosc_encode(raw, 0, "snappy")},
  };
  for (const auto& c : cases) {
    INFO(c.codec);
    CHECK(decode(meta_of("<i4", 1000, c.codec), c.stored) == raw);
    // A chunk that would decode past its size (a "bomb"), one that decodes short, and a
    // truncated stream are errors, never a cut, padded or larger result.
    CHECK_THAT(decode(meta_of("<i4", 500, c.codec), c.stored), Catch::StartsWith("error: "));
    CHECK_THAT(decode(meta_of("<i4", 1001, c.codec), c.stored), Catch::StartsWith("error: "));
    CHECK_THAT(decode(meta_of("<i4", 1000, c.codec), c.stored.substr(0, c.stored.size() / 2)),
               Catch::StartsWith("error: "));
  }
}

TEST_CASE("errors say what is wrong with a stored chunk") {
  const std::string raw = sample();
  const std::string zlib = zlib_encode(raw, 15);
  CHECK(decode(meta_of("<i4", 500, R"({"id": "zlib"})"), zlib) == "error: zlib: inflates past the chunk's 2000 bytes");
  CHECK(decode(meta_of("<i4", 1001, R"({"id": "zlib"})"), zlib) ==
        "error: zlib: decodes to 4000 bytes where the chunk has 4004");
  CHECK(decode(meta_of("<i4", 1000, R"({"id": "zlib"})"), zlib.substr(0, 20)) ==
        "error: zlib: corrupt or truncated stream");
  CHECK_THAT(decode(meta_of("<i4", 1000, R"({"id": "zlib"})"), "not a zlib stream at all"),
             Catch::StartsWith("error: zlib: corrupt or truncated stream"));
  CHECK(decode(meta_of("<i4", 1001, R"({"id": "lz4"})"), lz4_encode(raw)) ==
        "error: lz4: header declares 4000 bytes where the chunk has 4004");
  CHECK(decode(meta_of("<i4", 999, "null"), raw) == "error: stored chunk has 4000 bytes where the chunk has 3996");
}

TEST_CASE("codecs and dtypes not decoded here are refused by name") {
  CHECK(codec::Pipeline::of(meta_of("|b1", 8, "null", R"([{"id": "packbits"}])")).error().message ==
        R"(codec "packbits" is not decoded by kerchunkfs)");
  CHECK(codec::Pipeline::of(meta_of("|O", 8, "null", R"([{"id": "vlen-utf8"}])")).error().message ==
        R"(dtype "|O" has no fixed size)");
  CHECK_THAT(
      codec::Pipeline::of(meta_of("<i2", 8, R"({"id": "lzma", "format": 3, "filters": [{"id": 33}]})")).error().message,
      Catch::Contains("raw streams"));
  CHECK(codec::Pipeline::of(meta_of("<f4", 8, "null")).value().empty());
}

TEST_CASE("filters undo what numcodecs' filters do") {
  SECTION("shuffle, with bytes past the last whole element left in place") {
    const std::string shuffled = std::string("\x01\x02\x03", 3) + std::string("\x0A\x0B\x0C", 3) + "Z";
    CHECK(decode(meta_of("|u1", 7, "null", R"([{"id": "shuffle", "elementsize": 2}])"), shuffled) ==
          std::string("\x01\x0A\x02\x0B\x03\x0CZ", 7));
  }
  SECTION("delta: a running sum that wraps as the integer type does") {
    const std::int16_t stored[] = {30000, 30000, -5};
    const auto out = decode(meta_of("<i2", 3, "null", R"([{"id": "delta", "dtype": "<i2"}])"),
                            std::string(reinterpret_cast<const char*>(stored), sizeof stored));
    std::int16_t values[3];
    std::memcpy(values, out.data(), sizeof values);
    CHECK(values[0] == 30000);
    CHECK(values[1] == -5536);  // 60000 wrapped
    CHECK(values[2] == -5541);
  }
  SECTION("fixedscaleoffset: stored / scale + offset") {
    const std::uint16_t stored[] = {0, 15, 65535};
    const auto out =
        decode(meta_of("<f8", 3, "null",
                       R"([{"id": "fixedscaleoffset", "offset": 1000, "scale": 10, "dtype": "<f8", "astype": "<u2"}])"),
               std::string(reinterpret_cast<const char*>(stored), sizeof stored));
    double values[3];
    std::memcpy(values, out.data(), sizeof values);
    CHECK(values[0] == 1000.0);
    CHECK(values[1] == 1001.5);
    CHECK(values[2] == 1000.0 + 6553.5);
  }
  SECTION("big-endian elements are shown little-endian when asked") {
    const auto pipeline = codec::Pipeline::of(meta_of(">i4", 2, "null"), true);
    REQUIRE(pipeline);
    CHECK(pipeline->dtype() == "\"<i4\"");
    CHECK(pipeline->decode(std::string("\0\0\0\x01\0\0\x01\0", 8)).value() == std::string("\x01\0\0\0\0\x01\0\0", 8));
  }
  SECTION("crc32 refuses a chunk whose checksum does not match") {
    const std::string data = "abcdefgh";
    const std::uint32_t sum = crc32(0, reinterpret_cast<const Bytef*>(data.data()), 8);
    std::string stored(4, '\0');
    std::memcpy(stored.data(), &sum, 4);
    CHECK(decode(meta_of("<i4", 2, R"({"id": "crc32"})"), stored + data) == data);
    CHECK(decode(meta_of("<i4", 2, R"({"id": "crc32"})"), stored + "abcdefgX") ==
          "error: crc32: crc32: checksum does not match (corrupt chunk)");
  }
}

TEST_CASE("unpacking follows xarray's dtypes and arithmetic") {
  codec::Packing masked_scaled;
  masked_scaled.fill_values = {-32767};
  masked_scaled.scale_factor = 0.01;
  masked_scaled.add_offset = 5;
  CHECK(codec::ElementConverter::unpacked_dtype(R"("<i2")", masked_scaled).value() == R"("<f4")");
  codec::Packing offset_only;
  offset_only.add_offset = 5;
  CHECK(codec::ElementConverter::unpacked_dtype(R"("<i2")", offset_only).value() == R"("<f8")");
  CHECK(codec::ElementConverter::unpacked_dtype(R"(">i4")", masked_scaled).value() == R"("<f8")");
  CHECK(codec::ElementConverter::unpacked_dtype(R"("<i2")", {}).value() == R"("<i2")");

  const auto converter = codec::ElementConverter::make(R"(">i2")", R"("<f4")", masked_scaled);
  REQUIRE(converter);
  const unsigned char stored[] = {0x80, 0x01, 0x00, 0x64};  // -32767 (the fill), 100
  float out[2];
  converter->convert(reinterpret_cast<const char*>(stored), reinterpret_cast<char*>(out), 2);
  CHECK(std::isnan(out[0]));
  CHECK(out[1] == static_cast<float>(100.0F * 0.01F + 5.0F));

  const std::string dtypes[] = {R"("<i2")", R"("<u2")"};
  CHECK(codec::common_dtype(dtypes).value() == R"("<i4")");
  const std::string floats[] = {R"("<f4")", R"(">i4")"};
  CHECK(codec::common_dtype(floats).value() == R"("<f8")");
  const std::string small[] = {R"("<f4")", R"("<i2")"};
  CHECK(codec::common_dtype(small).value() == R"("<f4")");

  const auto packing = codec::Packing::of_attributes(R"({"scale_factor": [0.5], "missing_value": [1, 2]})", "-9");
  REQUIRE(packing);
  CHECK(packing->scale_factor == 0.5);
  CHECK(packing->fill_values == std::vector<double>{-9, 1, 2});
  CHECK(codec::Packing::of_attributes(R"({"add_offset": "x"})").error().message ==
        "attribute add_offset is not a number");
  CHECK(codec::fill_element(R"(">i2")", "-2").value() == std::string("\xFF\xFE", 2));
  CHECK(codec::fill_element(R"("|S3")", "\"YWJj\"").value() == std::string(3, '\0'));
}
