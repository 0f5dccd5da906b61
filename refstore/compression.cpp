#include "refstore/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "refstore/load_error.h"

namespace kerchunkfs::refstore {
namespace {

[[noreturn]] void too_large(const std::string& path, std::uint64_t most_bytes) {
  throw LoadError(path + ": expands to more than " + std::to_string(most_bytes) +
                  " bytes, the most a compressed reference set may");
}

std::string inflate_or_throw(std::string_view data, const std::string& path, std::uint64_t most_bytes) {
  z_stream stream{};
  // 32 + MAX_WBITS: a zlib or a gzip header, whichever the data has.
  if (inflateInit2(&stream, 32 + MAX_WBITS) != Z_OK) throw LoadError(path + ": cannot start zlib");
  const std::unique_ptr<z_stream, int (*)(z_stream*)> end(&stream, inflateEnd);
  std::string out(std::min<std::uint64_t>(std::max<std::size_t>(data.size() * 8, 1 << 16), most_bytes + 1), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    if (stream.total_out == out.size()) {
      if (out.size() > most_bytes) too_large(path, most_bytes);
      out.resize(std::min<std::uint64_t>(out.size() * 2, most_bytes + 1));
    }
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - stream.total_out, UINT32_MAX));
    const int status = inflate(&stream, Z_NO_FLUSH);
    if (status == Z_STREAM_END) break;
    if (status != Z_OK && status != Z_BUF_ERROR) {
      throw LoadError(path + ": damaged zlib data at compressed byte " + std::to_string(stream.total_in));
    }
    if (status == Z_BUF_ERROR && stream.avail_in == 0) throw LoadError(path + ": the zlib data ends early");
  }
  if (stream.total_out > most_bytes) too_large(path, most_bytes);
  out.resize(stream.total_out);
  return out;
}

std::string unzstd(std::string_view data, const std::string& path, std::uint64_t most_bytes) {
  const std::unique_ptr<ZSTD_DStream, std::size_t (*)(ZSTD_DStream*)> stream(ZSTD_createDStream(), ZSTD_freeDStream);
  std::string out;
  std::string buffer(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::size_t status = 1;
  // Until the input is used up and the last frame is flushed (a frame may hold output back).
  while (in.pos < in.size || status != 0) {
    ZSTD_outBuffer piece{buffer.data(), buffer.size(), 0};
    const std::size_t consumed = in.pos;
    status = ZSTD_decompressStream(stream.get(), &piece, &in);
    if (ZSTD_isError(status)) throw LoadError(path + ": damaged zstd data: " + ZSTD_getErrorName(status));
    if (out.size() + piece.pos > most_bytes) too_large(path, most_bytes);
    out.append(buffer.data(), piece.pos);
    if (status != 0 && in.pos == in.size && consumed == in.pos && piece.pos == 0) break;  // no progress: truncated
  }
  if (status != 0) throw LoadError(path + ": the zstd data ends early");
  return out;
}

}  // namespace

Compression detect_compression(std::string_view head) {
  if (head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b') return Compression::Gzip;
  if (head.size() >= 4 && head.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) return Compression::Zstd;
  return Compression::None;
}

Compression compression_for_name(std::string_view name) {
  if (name.ends_with(".gz")) return Compression::Gzip;
  if (name.ends_with(".zst")) return Compression::Zstd;
  return Compression::None;
}

common::Result<std::string> decompress(std::string_view data, Compression compression, const std::string& path,
                                       std::uint64_t most_bytes) {
  try {
    switch (compression) {
      case Compression::Gzip:
        return inflate_or_throw(data, path, most_bytes);
      case Compression::Zstd:
        return unzstd(data, path, most_bytes);
      case Compression::None:
        break;
    }
    return std::string(data);
  } catch (const LoadError& error) {
    return common::Error{error.what(), EINVAL};
  }
}

std::string compress(std::string_view data, Compression compression) {
  if (compression == Compression::Zstd) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    const std::size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
    out.resize(ZSTD_isError(size) ? 0 : size);
    return out;
  }
  if (compression == Compression::None) return std::string(data);
  z_stream stream{};
  deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace kerchunkfs::refstore
