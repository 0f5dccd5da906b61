#include "tests/fuzz/targets.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "codec/codec.h"
#include "daemon/assembled_array.h"
#include "fetch/aws_credentials.h"
#include "fetch/http_response.h"
#include "parquet/parquet.h"
#include "refstore/compression.h"
#include "refstore/refstore.h"
#include "scanner/scan.h"
#include "sources/dmrpp/dmrpp.h"
#include "tests/fuzz/store_difference.h"

namespace kerchunkfs::fuzz {

namespace {

// The streaming parser against simdjson's DOM parser, an independent reading of the same text:
// what the store accepted must be valid JSON, and in a version-0 set every key whose last value
// is a plain string or a [url, offset, length] reference must hold exactly that.
void check_against_simdjson(std::string_view text, const refstore::RefStore& store,
                            const refstore::LoadOptions& options) {
  simdjson::dom::parser parser;
  simdjson::dom::object top;
  const auto error = parser.parse(text.data(), text.size()).get(top);
  // JSON allows integers of any size; simdjson 3.0's DOM refuses those past 64 bits as a number
  // error, a limit of its own, so number errors are no verdict (the unit tests hold the grammar).
  if (error == simdjson::NUMBER_ERROR) return;
  if (error != simdjson::SUCCESS) {
    std::fprintf(stderr, "accepted a document simdjson refuses\n");
    std::abort();
  }
  if (top["version"].error() != simdjson::NO_SUCH_FIELD) return;
  std::map<std::string, simdjson::dom::element> last;
  for (const auto field : top) last.insert_or_assign(std::string(field.key), field.value);
  for (const auto& [key, value] : last) {
    const auto node = store.find(key);
    if (!node || store.is_directory(*node)) {
      std::fprintf(stderr, "key %s missing from an accepted set\n", key.c_str());
      std::abort();
    }
    const refstore::Entry entry = store.entry(*node);
    bool same = true;
    std::string_view string;
    simdjson::dom::array array;
    if (value.get_string().get(string) == simdjson::SUCCESS) {
      if (string.starts_with("base64:")) continue;
      same = entry.kind == refstore::EntryKind::Inline && entry.data == string;
    } else if (value.get_array().get(array) == simdjson::SUCCESS && array.size() == 3 &&
               array.at(0).get_string().get(string) == simdjson::SUCCESS) {
      std::uint64_t offset = 0, length = 0;
      if (array.at(1).get_uint64().get(offset) != simdjson::SUCCESS ||
          array.at(2).get_uint64().get(length) != simdjson::SUCCESS) {
        continue;
      }
      same = entry.kind == refstore::EntryKind::Range && entry.offset == offset && entry.length == length &&
             store.url(entry.url) ==
                 refstore::resolve_target(std::string(string), options.relative_base, options.remote_protocol);
    }
    if (!same) {
      std::fprintf(stderr, "key %s: the store differs from simdjson's reading\n", key.c_str());
      std::abort();
    }
  }
}

}  // namespace

void refstore_input(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  common::Result<std::string> expanded = std::string();
  // As a mounted file is read: compressed sets are expanded first.
  if (const auto compression = refstore::detect_compression(text); compression != refstore::Compression::None) {
    expanded = refstore::decompress(text, compression, "input");
    if (!expanded) return;
    text = *expanded;
  }
  refstore::LoadOptions options;
  options.default_target = "/data/default.h5";
  options.read_window_bytes = 0;
  const auto loaded = refstore::RefStore::parse(text, options);
  // Read by two threads where a place to split the entries is found, or through a read window
  // whose end cuts members (sizes that vary with the input), the same set must give the same
  // store, or the same error.
  refstore::LoadOptions two_threads = options;
  two_threads.two_threads_from_bytes = 0;
  two_threads.read_window_bytes = 1 + size % 61;
  refstore::LoadOptions windowed = options;
  windowed.read_window_bytes = 1 + size % 509;
  for (const auto& [other, how] : {std::pair{&two_threads, "two threads"}, std::pair{&windowed, "a read window"}}) {
    const auto read = refstore::RefStore::parse(text, *other);
    if (loaded.ok() != read.ok() || (!loaded && loaded.error().message != read.error().message)) {
      std::fprintf(stderr, "in place: %s\n%s: %s\n", loaded ? "loaded" : loaded.error().message.c_str(), how,
                   read ? "loaded" : read.error().message.c_str());
      std::abort();
    }
    if (!loaded) continue;
    if (const std::string difference = store_difference(*loaded, *read); !difference.empty()) {
      std::fprintf(stderr, "in place and %s built different stores: %s\n", how, difference.c_str());
      std::abort();
    }
  }
  if (!loaded) return;
  const refstore::RefStore& store = *loaded;
  check_against_simdjson(text, store, options);
  // Walk what was built, as a mount would, node by node and in one walk: the same nodes.
  std::size_t live = 0;
  for (refstore::NodeId node = 0; node < store.node_count(); ++node) {
    if (store.is_replaced(node)) continue;
    ++live;
    (void)store.entry(node);
    (void)store.key(node);
    if (store.is_directory(node)) (void)store.children(node);
  }
  std::size_t walked = 0;
  store.for_each_entry([&](refstore::NodeId node, const refstore::Entry& entry) {
    const refstore::Entry single = store.entry(node);
    if (store.is_replaced(node) || entry.kind != single.kind || entry.offset != single.offset ||
        entry.length != single.length || entry.data != single.data) {
      std::fprintf(stderr, "node %u: the walk and entry() differ\n", node);
      std::abort();
    }
    ++walked;
  });
  if (walked != live) {
    std::fprintf(stderr, "the walk saw %zu of %zu nodes\n", walked, live);
    std::abort();
  }
}

void http_input(const std::uint8_t* data, std::size_t size) {
  // [status: 2 bytes][offset: 4][length: 4][body size: 4][Content-Range text...]
  if (size < 14) return;
  std::uint16_t status = 0;
  std::uint32_t offset = 0, length = 0, body = 0;
  std::memcpy(&status, data, 2);
  std::memcpy(&offset, data + 2, 4);
  std::memcpy(&length, data + 6, 4);
  std::memcpy(&body, data + 10, 4);
  const std::string_view header(reinterpret_cast<const char*>(data) + 14, size - 14);
  (void)fetch::parse_content_range(header);
  std::time_t expires = 0;
  (void)fetch::parse_sts_answer(header, expires);  // a credential answer, as STS sends it
  (void)fetch::parse_unsatisfied_total(header);
  const auto verdict = fetch::judge_range_answer({status, header, body}, offset, length == 0 ? 1 : length);
  // What the source does with a verdict it accepts: the slice must lie inside the body.
  if (verdict.ok && (verdict.body_offset > body || verdict.length > body - verdict.body_offset)) __builtin_trap();
}

void scan_input(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)quiet;
  // HDF5 wants a file with a real path (a memfd's /proc path will not do): one per process, in
  // memory, rewritten for every input.
  static const std::string path = "/dev/shm/kerchunkfs-fuzz-" + std::to_string(::getpid()) + ".h5";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const bool written = ::write(fd, data, size) == static_cast<ssize_t>(size);
  ::close(fd);
  if (!written) return;
  scanner::ScanOptions options;
  options.inline_unsupported = 1 << 16;
  (void)scanner::scan_file(path, options);  // an error is an answer; a crash or a hang is a finding
}

namespace {

// The codec settings the decoder fuzzer picks from: dtype, compressor, filters (as .zarray JSON).
struct CodecConfig {
  const char* dtype;
  const char* compressor;
  const char* filters;
};
constexpr CodecConfig kCodecConfigs[] = {
    {R"("<f4")", R"({"id": "zlib", "level": 5})", "null"},
    {R"("<i4")", R"({"id": "gzip", "level": 5})", "null"},
    {R"("<f8")", R"({"id": "bz2", "level": 5})", "null"},
    {R"("<i2")", R"({"id": "lzma", "format": 1})", "null"},
    {R"("<i2")", R"({"id": "lzma", "format": 2})", "null"},
    {R"(">i8")", R"({"id": "zstd", "level": 3})", "null"},
    {R"("<u2")", R"({"id": "lz4", "acceleration": 1})", "null"},
    {R"("<f4")", R"({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0})", "null"},
    {R"("<f4")", R"({"id": "zlib", "level": 4})", R"([{"id": "shuffle", "elementsize": 4}])"},
    {R"("<i4")", R"({"id": "zlib"})", R"([{"id": "delta", "dtype": "<i4", "astype": "<i2"}])"},
    {R"("<f8")", "null",
     R"([{"id": "fixedscaleoffset", "offset": 1000, "scale": 10, "dtype": "<f8", "astype": "<u2"}])"},
    {R"("<f8")", "null", R"([{"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8"}])"},
    {R"("<f8")", "null", R"([{"id": "quantize", "digits": 2, "dtype": "<f8", "astype": "<f4"}])"},
    {R"("<f4")", "null", R"([{"id": "bitround", "keepbits": 6}])"},
    {R"("<i4")", R"({"id": "crc32"})", "null"},
    {R"("<i4")", R"({"id": "adler32"})", "null"},
    {R"("<i2")", "null", R"([{"id": "fletcher32"}])"},
    {R"("|i1")", R"({"id": "zlib", "level": 1})", R"([{"id": "fletcher32"}])"},
    {R"(">f8")", "null", "null"},
};

void assembly_input(std::string_view text) {
  const auto loaded = refstore::RefStore::parse(text, refstore::LoadOptions{});
  if (!loaded) return;
  const auto array = loaded->lookup(refstore::kRootNode, "a");
  if (!array) return;
  const auto zarray = loaded->lookup(*array, ".zarray");
  if (!zarray || loaded->entry(*zarray).kind != refstore::EntryKind::Inline) return;
  const auto meta = common::ArrayMeta::parse(loaded->entry(*zarray).data);
  if (!meta) return;
  (void)daemon::Assembly::load(*loaded, *array, *meta);
  (void)codec::Packing::of_attributes(loaded->entry(*zarray).data, meta->fill_value);
  (void)codec::fill_element(meta->dtype, meta->fill_value);
}

}  // namespace

void codec_input(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return;
  const std::string_view stored(reinterpret_cast<const char*>(data) + 3, size - 3);
  if (data[0] == 255) return assembly_input(stored);
  const CodecConfig& config = kCodecConfigs[data[0] % std::size(kCodecConfigs)];
  const std::uint64_t count = (data[1] | (data[2] << 8)) % 4097;
  common::ArrayMeta meta;
  meta.shape = {count};
  meta.chunks = {count == 0 ? 1 : count};
  meta.dtype = config.dtype;
  meta.compressor = config.compressor;
  meta.filters = config.filters;
  for (const bool little_endian : {false, true}) {
    const auto pipeline = codec::Pipeline::of(meta, little_endian);
    if (!pipeline) __builtin_trap();  // every configuration above is one the decoder knows
    const auto decoded = pipeline->decode(stored);
    // A decoding is exactly one chunk, or an error: never short, padded or larger.
    if (decoded && decoded->size() != pipeline->decoded_size()) __builtin_trap();
  }
  // Unpacking any bytes as packed integers: no trap, no overflow.
  codec::Packing packing;
  packing.fill_values = {-1};
  packing.scale_factor = 0.5;
  packing.add_offset = 3;
  const auto converter = codec::ElementConverter::make(R"(">i2")", R"("<f4")", packing);
  if (!converter) __builtin_trap();
  std::string out(stored.size() / 2 * 4, '\0');
  converter->convert(stored.data(), out.data(), stored.size() / 2);
  const auto wide = codec::ElementConverter::make(R"("<f8")", R"("<i8")", {});
  if (!wide) __builtin_trap();
  std::string integers(stored.size() / 8 * 8, '\0');
  wide->convert(stored.data(), integers.data(), stored.size() / 8);
}

void parquet_input(const std::uint8_t* data, std::size_t size) {
  const auto table = parquet::read_table(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!table) return;
  for (const parquet::Column& column : table->columns) {
    if (column.size() != table->rows) __builtin_trap();
    for (std::size_t row = 0; row < column.size(); ++row) {
      (void)column.integer(row);
      (void)column.bytes(row);
    }
  }
  // Written again and read back, the table is the same.
  const auto written = parquet::write_table(*table);
  if (!written) return;
  const auto again = parquet::read_table(*written);
  if (!again || again->rows != table->rows || again->columns.size() != table->columns.size()) __builtin_trap();
  for (std::size_t c = 0; c < table->columns.size(); ++c) {
    for (std::size_t row = 0; row < table->rows; ++row) {
      const parquet::Column& a = table->columns[c];
      const parquet::Column& b = again->columns[c];
      if (a.is_null(row) != b.is_null(row) || a.bytes(row) != b.bytes(row) || a.integer(row) != b.integer(row)) {
        __builtin_trap();
      }
    }
  }
}

void dmrpp_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const sources::ScanOptions options;
  (void)sources::scan_dmrpp_text("https://host/granule.h5.dmrpp", text, options);
}

}  // namespace kerchunkfs::fuzz
