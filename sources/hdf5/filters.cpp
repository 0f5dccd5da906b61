#include "sources/hdf5/filters.h"

#include <string_view>

namespace kerchunkfs::sources {
namespace {

// Filter ids registered with The HDF Group that are not named in hdf5.h.
constexpr H5Z_filter_t kBzip2 = 307;
constexpr H5Z_filter_t kLzf = 32000;
constexpr H5Z_filter_t kBlosc = 32001;
constexpr H5Z_filter_t kLz4 = 32004;
constexpr H5Z_filter_t kBitshuffle = 32008;
constexpr H5Z_filter_t kZstd = 32015;

std::string with_level(std::string_view id, unsigned level) {
  return "{\"id\": \"" + std::string(id) + "\", \"level\": " + std::to_string(level) + "}";
}

// hdf5-blosc's parameters: [filter revision, blosc format, type size, chunk bytes, clevel,
// shuffle (0 none, 1 byte, 2 bit: numcodecs uses the same numbers), compressor code]. Each
// stored chunk is one blosc frame, which numcodecs' Blosc decodes whatever the settings say.
std::string blosc_codec(std::size_t n, const unsigned* values) {
  static constexpr const char* kCompressors[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"};
  const unsigned level = n > 4 ? values[4] : 5;
  const unsigned shuffle = n > 5 ? values[5] : 1;
  const unsigned compressor = n > 6 && values[6] < 6 ? values[6] : 0;
  return "{\"blocksize\": 0, \"clevel\": " + std::to_string(level) + ", \"cname\": \"" + kCompressors[compressor] +
         "\", \"id\": \"blosc\", \"shuffle\": " + std::to_string(shuffle) + "}";
}

// Why a filter HDF5 knows has no zarr codec here.
std::string no_codec(H5Z_filter_t filter, const char* name) {
  std::string reason = "filter " + std::to_string(filter) + " (" + name + ") ";
  switch (filter) {
    case H5Z_FILTER_SZIP:
      return reason + "has no numcodecs codec";
    case H5Z_FILTER_NBIT:
    case H5Z_FILTER_SCALEOFFSET:
      return reason + "packs bits in a way no numcodecs codec undoes";
    case kLz4:
      return reason + "frames LZ4 blocks differently from numcodecs' lz4";
    case kLzf:
    case kBitshuffle:
      return reason + "has no codec in numcodecs 0.11";
    default:
      return reason + "has no zarr codec";
  }
}

}  // namespace

common::Result<ZarrFilters> zarr_filters(hid_t plist, std::size_t element_size) {
  ZarrFilters result;
  const int count = H5Pget_nfilters(plist);
  if (count <= 0) return result;
  std::string codecs;
  for (int i = 0; i < count; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t n = 8;
    unsigned values[8] = {};
    char name[128] = {};
    const H5Z_filter_t filter =
        H5Pget_filter2(plist, static_cast<unsigned>(i), &flags, &n, values, sizeof name, name, &config);
    std::string codec;
    switch (filter) {
      case H5Z_FILTER_DEFLATE:
        codec = with_level("zlib", n > 0 ? values[0] : 6);
        break;
      case H5Z_FILTER_SHUFFLE:
        codec = "{\"elementsize\": " + std::to_string(element_size) + ", \"id\": \"shuffle\"}";
        break;
      case kBzip2:
        codec = with_level("bz2", n > 0 ? values[0] : 9);
        break;
      case kZstd:
        codec = with_level("zstd", n > 0 ? values[0] : 3);
        break;
      case kBlosc:
        codec = blosc_codec(n, values);
        break;
      case H5Z_FILTER_FLETCHER32:
        if (i + 1 != count) {
          return common::Error{"fletcher32 is followed by other filters, so its checksum sits inside their output"};
        }
        result.checksum_bytes = 4;
        continue;
      default:
        return common::Error{no_codec(filter, name)};
    }
    codecs += (codecs.empty() ? "" : ", ") + codec;
  }
  if (!codecs.empty()) result.json = "[" + codecs + "]";
  return result;
}

}  // namespace kerchunkfs::sources
