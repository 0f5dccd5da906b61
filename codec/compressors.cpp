// The compressors, each through its Debian library, each writing into a buffer of the exact
// expected size and failing when the stream would need more room or ends short.
#include <blosc.h>
#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstring>

#include "codec/stage.h"

namespace kerchunkfs::codec {
namespace {

using common::Error;
using common::Result;

std::string size_mismatch(std::size_t got, std::size_t expected) {
  return "decodes to " + std::to_string(got) + " bytes where the chunk has " + std::to_string(expected);
}

// zlib and gzip: one inflate that detects either header (numcodecs' Zlib writes zlib streams, its
// GZip gzip members).
class Inflate final : public Stage {
 public:
  explicit Inflate(std::string_view name) : id_(name) {}
  std::string_view id() const override { return id_; }
  Result<std::string> decode(std::string_view input, std::size_t output_size) const override {
    if (input.size() > UINT_MAX || output_size > UINT_MAX) return Error{"chunk larger than 4 GiB"};
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK) return Error{"zlib could not start"};
    std::string out(output_size, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    int status = inflate(&stream, Z_FINISH);
    // Output full but the stream not at its end: is there more to come? One spare byte tells.
    if (status == Z_BUF_ERROR && stream.avail_out == 0) {
      char spare = 0;
      stream.next_out = reinterpret_cast<Bytef*>(&spare);
      stream.avail_out = 1;
      status = inflate(&stream, Z_FINISH);
      if (stream.avail_out == 0) status = Z_BUF_ERROR;
      if (status == Z_BUF_ERROR) {
        inflateEnd(&stream);
        return Error{"inflates past the chunk's " + std::to_string(output_size) + " bytes"};
      }
    }
    const std::size_t produced = stream.total_out;
    const char* message = stream.msg;
    inflateEnd(&stream);
    if (status != Z_STREAM_END) {
      return Error{status == Z_BUF_ERROR ? "stream ends early (truncated)"
                                         : std::string("corrupt stream: ") + (message ? message : "inflate failed")};
    }
    if (produced != output_size) return Error{size_mismatch(produced, output_size)};
    return out;
  }

 private:
  std::string id_;
};

class Zstd final : public Stage {
 public:
  std::string_view id() const override { return "zstd"; }
  Result<std::string> decode(std::string_view input, std::size_t output_size) const override {
    const unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
    if (declared == ZSTD_CONTENTSIZE_ERROR) return Error{"not a zstd frame"};
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != output_size) {
      return Error{"frame declares " + std::to_string(declared) + " bytes where the chunk has " +
                   std::to_string(output_size)};
    }
    std::string out(output_size, '\0');
    const std::size_t produced = ZSTD_decompress(out.data(), out.size(), input.data(), input.size());
    if (ZSTD_isError(produced) != 0U) return Error{std::string(ZSTD_getErrorName(produced))};
    if (produced != output_size) return Error{size_mismatch(produced, output_size)};
    return out;
  }
};

// numcodecs' LZ4: the decoded size as 4 little-endian bytes, then one LZ4 block.
class Lz4 final : public Stage {
 public:
  std::string_view id() const override { return "lz4"; }
  Result<std::string> decode(std::string_view input, std::size_t output_size) const override {
    if (input.size() < 4) return Error{"shorter than its 4-byte size header"};
    const auto* header = reinterpret_cast<const unsigned char*>(input.data());
    const std::size_t declared = header[0] | (header[1] << 8) | (header[2] << 16) | (std::size_t{header[3]} << 24);
    if (declared != output_size) {
      return Error{"header declares " + std::to_string(declared) + " bytes where the chunk has " +
                   std::to_string(output_size)};
    }
    if (input.size() - 4 > INT_MAX || output_size > INT_MAX) return Error{"chunk larger than 2 GiB"};
    std::string out(output_size, '\0');
    const int produced = LZ4_decompress_safe(input.data() + 4, out.data(), static_cast<int>(input.size() - 4),
                                             static_cast<int>(out.size()));
    if (produced < 0) return Error{"corrupt or truncated block"};
    if (static_cast<std::size_t>(produced) != output_size) return Error{size_mismatch(produced, output_size)};
    return out;
  }
};

class Bz2 final : public Stage {
 public:
  std::string_view id() const override { return "bz2"; }
  Result<std::string> decode(std::string_view input, std::size_t output_size) const override {
    if (input.size() > UINT_MAX || output_size >= UINT_MAX) return Error{"chunk larger than 4 GiB"};
    // One byte of room beyond the chunk tells a stream that decodes to more from one that fits.
    std::string out(output_size + 1, '\0');
    auto length = static_cast<unsigned>(out.size());
    const int status = BZ2_bzBuffToBuffDecompress(out.data(), &length, const_cast<char*>(input.data()),
                                                  static_cast<unsigned>(input.size()), 0, 0);
    if (status == BZ_OUTBUFF_FULL || (status == BZ_OK && length > output_size)) {
      return Error{"decompresses past the chunk's " + std::to_string(output_size) + " bytes"};
    }
    if (status == BZ_UNEXPECTED_EOF) return Error{"stream ends early (truncated)"};
    if (status != BZ_OK) return Error{"corrupt stream (libbz2 status " + std::to_string(status) + ")"};
    if (length != output_size) return Error{size_mismatch(length, output_size)};
    out.resize(length);
    return out;
  }
};

// numcodecs' LZMA with format xz (its default) or lzma-alone: libzlma's automatic decoder.
class Lzma final : public Stage {
 public:
  std::string_view id() const override { return "lzma"; }
  Result<std::string> decode(std::string_view input, std::size_t output_size) const override {
    lzma_stream stream = LZMA_STREAM_INIT;
    // The decoder's own memory, bounded whatever the stream header asks for.
    constexpr std::uint64_t kMemoryLimit = 256ull << 20;
    if (lzma_auto_decoder(&stream, kMemoryLimit, 0) != LZMA_OK) return Error{"liblzma could not start"};
    std::string out(output_size + 1, '\0');
    stream.next_in = reinterpret_cast<const std::uint8_t*>(input.data());
    stream.avail_in = input.size();
    stream.next_out = reinterpret_cast<std::uint8_t*>(out.data());
    stream.avail_out = out.size();
    // Runs until the stream ends, fails, or can make no progress (LZMA_BUF_ERROR: the input is used
    // up, or the one spare byte of output is taken).
    lzma_ret status = LZMA_OK;
    do {
      status = lzma_code(&stream, LZMA_FINISH);
    } while (status == LZMA_OK);
    const std::size_t produced = out.size() - stream.avail_out;
    lzma_end(&stream);
    if (produced > output_size) {
      return Error{"decompresses past the chunk's " + std::to_string(output_size) + " bytes"};
    }
    if (status == LZMA_MEMLIMIT_ERROR) return Error{"stream asks for more than 256 MiB to decode"};
    if (status != LZMA_STREAM_END) {
      return Error{status == LZMA_OK || status == LZMA_BUF_ERROR ? "stream ends early (truncated)" : "corrupt stream"};
    }
    if (produced != output_size) return Error{size_mismatch(produced, output_size)};
    out.resize(produced);
    return out;
  }
};

// Blosc frames say their own inner compressor, shuffle mode and sizes; libblosc checks the
// frame against the buffer sizes given.
class Blosc final : public Stage {
 public:
  std::string_view id() const override { return "blosc"; }
  Result<std::string> decode(std::string_view input, std::size_t output_size) const override {
    std::size_t decoded = 0, compressed = 0, block = 0;
    if (input.size() < BLOSC_MIN_HEADER_LENGTH) return Error{"shorter than a blosc header"};
    blosc_cbuffer_sizes(input.data(), &decoded, &compressed, &block);
    if (compressed != input.size()) {
      return Error{"frame declares " + std::to_string(compressed) + " stored bytes where " +
                   std::to_string(input.size()) + " are stored (truncated or trailing bytes)"};
    }
    if (decoded != output_size) {
      return Error{"frame declares " + std::to_string(decoded) + " bytes where the chunk has " +
                   std::to_string(output_size)};
    }
    std::string out(output_size, '\0');
    // The _ctx call keeps no global state, so worker threads may decode at once.
    const int produced = blosc_decompress_ctx(input.data(), out.data(), out.size(), 1);
    if (produced < 0) return Error{"corrupt frame (libblosc status " + std::to_string(produced) + ")"};
    if (static_cast<std::size_t>(produced) != output_size) return Error{size_mismatch(produced, output_size)};
    return out;
  }
};

}  // namespace

std::unique_ptr<Stage> compressor_stage(std::string_view id, simdjson::dom::object config, Error& refused) {
  if (id == "zlib" || id == "gzip") return std::make_unique<Inflate>(id);
  if (id == "zstd") return std::make_unique<Zstd>();
  if (id == "lz4") return std::make_unique<Lz4>();
  if (id == "bz2") return std::make_unique<Bz2>();
  if (id == "blosc") return std::make_unique<Blosc>();
  if (id == "lzma") {
    std::int64_t format = 1;
    if (const auto value = config["format"]; !value.error() && !value.is_null() && value.get_int64().get(format)) {
      refused = Error{"lzma: format is not a number"};
      return nullptr;
    }
    simdjson::dom::element filters;
    const bool custom_filters = !config["filters"].get(filters) && !filters.is_null();
    // 0 auto, 1 xz, 2 lzma-alone; 3 (raw) needs the filter chain, which is not decoded here.
    if (format < 0 || format > 2 || custom_filters) {
      refused = Error{"lzma: raw streams and custom filter chains are not decoded"};
      return nullptr;
    }
    return std::make_unique<Lzma>();
  }
  return nullptr;
}

}  // namespace kerchunkfs::codec
