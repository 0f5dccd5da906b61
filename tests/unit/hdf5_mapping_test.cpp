// The scanner's HDF5 mapping without a scan: types made with the HDF5 library, and chunk indexes
// of files written with it, checked against the library's own answers.
#include <hdf5.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sources/file_bytes.h"
#include "sources/hdf5/chunk_index.h"
#include "sources/hdf5/hdf5_handle.h"
#include "sources/hdf5/types.h"

using namespace kerchunkfs::sources;

namespace {

Handle type_handle(hid_t id) { return {id, H5Tclose}; }

std::string dtype_of(hid_t type) {
  const auto zarr = zarr_type(type);
  return zarr ? zarr->dtype : "refused: " + zarr.error().message;
}

// A temporary HDF5 file with one chunked 2-D dataset "v" (10 x 7, chunks 3 x 4, gzip), of which
// only some chunks are written; `latest` asks for the newest format (other chunk indexes).
struct ChunkedFile {
  explicit ChunkedFile(bool latest) {
    char name[] = "/tmp/kerchunkfs-chunk-index-XXXXXX";
    const int fd = ::mkstemp(name);
    ::close(fd);
    path = name;
    const Handle fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
    if (latest) H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    file = Handle{H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose};
    const hsize_t shape[] = {10, 7}, chunks[] = {3, 4};
    const Handle space{H5Screate_simple(2, shape, nullptr), H5Sclose};
    const Handle dcpl{H5Pcreate(H5P_DATASET_CREATE), H5Pclose};
    H5Pset_chunk(dcpl.get(), 2, chunks);
    H5Pset_deflate(dcpl.get(), 4);
    dataset =
        Handle{H5Dcreate2(file.get(), "v", H5T_STD_I32LE, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), H5Dclose};
    // Rows 0..5 only, and of those the columns 0..3: chunks (0,0) and (1,0) are written.
    std::vector<std::int32_t> values(6 * 4);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::int32_t>(i * 7);
    const hsize_t start[] = {0, 0}, count[] = {6, 4};
    const Handle selection{H5Dget_space(dataset.get()), H5Sclose};
    H5Sselect_hyperslab(selection.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    const Handle memory{H5Screate_simple(2, count, nullptr), H5Sclose};
    H5Dwrite(dataset.get(), H5T_NATIVE_INT32, memory.get(), selection.get(), H5P_DEFAULT, values.data());
    H5Fflush(file.get(), H5F_SCOPE_GLOBAL);
  }
  ~ChunkedFile() { ::unlink(path.c_str()); }
  ChunkedFile(const ChunkedFile&) = delete;
  ChunkedFile& operator=(const ChunkedFile&) = delete;

  // What the library says: (offsets, address, size) of every stored chunk.
  std::set<std::tuple<std::vector<std::uint64_t>, std::uint64_t, std::uint64_t>> library_chunks() const {
    hsize_t count = 0;
    const Handle space{H5Dget_space(dataset.get()), H5Sclose};  // HDF5 1.10 takes no H5S_ALL here
    H5Dget_num_chunks(dataset.get(), space.get(), &count);
    std::set<std::tuple<std::vector<std::uint64_t>, std::uint64_t, std::uint64_t>> out;
    for (hsize_t i = 0; i < count; ++i) {
      std::array<hsize_t, 2> offset{};
      unsigned mask = 0;
      haddr_t address = 0;
      hsize_t size = 0;
      H5Dget_chunk_info(dataset.get(), space.get(), i, offset.data(), &mask, &address, &size);
      out.emplace(std::vector<std::uint64_t>{offset[0], offset[1]}, address, size);
    }
    return out;
  }

  std::string path;
  Handle file, dataset;
};

}  // namespace

TEST_CASE("HDF5 numeric and string types map to numpy's dtype spelling, byte order included") {
  CHECK(dtype_of(H5T_IEEE_F32LE) == R"("<f4")");
  CHECK(dtype_of(H5T_IEEE_F64BE) == R"(">f8")");
  CHECK(dtype_of(H5T_STD_I16BE) == R"(">i2")");
  CHECK(dtype_of(H5T_STD_U8LE) == R"("|u1")");
  CHECK(dtype_of(H5T_STD_I64LE) == R"("<i8")");
  const Handle text = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(text.get(), 5);
  CHECK(dtype_of(text.get()) == R"("|S5")");
}

TEST_CASE("compounds map to structured dtypes, booleans to |b1, variable-length strings to an inlined codec") {
  const Handle compound = type_handle(H5Tcreate(H5T_COMPOUND, 12));
  H5Tinsert(compound.get(), "a", 0, H5T_STD_I32LE);
  H5Tinsert(compound.get(), "b", 4, H5T_IEEE_F64LE);
  CHECK(dtype_of(compound.get()) == R"([["a", "<i4"], ["b", "<f8"]])");

  const Handle boolean = type_handle(H5Tenum_create(H5T_STD_I8LE));
  const std::int8_t no = 0, yes = 1;
  H5Tenum_insert(boolean.get(), "FALSE", &no);
  H5Tenum_insert(boolean.get(), "TRUE", &yes);
  CHECK(is_bool_enum(boolean.get()));
  CHECK(dtype_of(boolean.get()) == R"("|b1")");

  const Handle vlen = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(vlen.get(), H5T_VARIABLE);
  const auto zarr = zarr_type(vlen.get());
  REQUIRE(zarr);
  CHECK(zarr->storage == ZarrType::Storage::VlenString);
}

TEST_CASE("types zarr cannot describe are refused by name") {
  CHECK_THAT(dtype_of(H5T_STD_REF_OBJ), Catch::StartsWith("refused: ") && Catch::Contains("reference"));
}

TEST_CASE("fill values and doubles are written as JSON that reads back exactly") {
  for (const double value : {0.1, 1e300, -2.5e-310, 1.0 / 3.0, 16777217.0}) {
    const std::string text = json_double(value, true);
    CHECK(std::strtod(text.c_str(), nullptr) == value);
  }
  CHECK(json_double(std::numeric_limits<double>::quiet_NaN(), true) == R"("NaN")");
  CHECK(json_double(-std::numeric_limits<double>::infinity(), false) == "-Infinity");
}

TEST_CASE("the v1 B-tree chunk index read in one pass equals the library's chunk by chunk") {
  const ChunkedFile file(false);
  const auto expected = file.library_chunks();
  REQUIRE(expected.size() == 2);
  LocalFileBytes bytes(file.path);
  const auto chunks = read_v1_btree_chunks(bytes, file.dataset.get(), 2);
  REQUIRE(chunks);
  std::set<std::tuple<std::vector<std::uint64_t>, std::uint64_t, std::uint64_t>> found;
  for (const ChunkLocation& chunk : *chunks) {
    CHECK(chunk.filter_mask == 0);
    found.emplace(chunk.offset, chunk.address, chunk.size);
  }
  CHECK(found == expected);
}

TEST_CASE("other chunk indexes are left to the library") {
  const ChunkedFile file(true);  // the newest format indexes these chunks with a fixed array
  REQUIRE(file.library_chunks().size() == 2);
  LocalFileBytes bytes(file.path);
  CHECK_FALSE(read_v1_btree_chunks(bytes, file.dataset.get(), 2));
}
