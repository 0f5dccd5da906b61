#include "sources/hdf5/hdf5.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "common/zarr_array.h"
#include "fetch/source_registry.h"
#include "fetch/url.h"
#include "sources/contiguous_layout.h"
#include "sources/file_bytes.h"
#include "sources/hdf5/attributes.h"
#include "sources/hdf5/chunk_index.h"
#include "sources/hdf5/dimension_names.h"
#include "sources/hdf5/filters.h"
#include "sources/hdf5/hdf5_handle.h"
#include "sources/hdf5/remote_driver.h"
#include "sources/hdf5/string_records.h"
#include "sources/hdf5/types.h"
#include "sources/scan_error.h"

namespace kerchunkfs::sources {
namespace {

// HDF5's extents as a chunk grid (chunk extents are never 0 in HDF5).
common::ChunkGrid chunk_grid(const std::vector<hsize_t>& shape, const std::vector<hsize_t>& chunks) {
  const std::vector<std::uint64_t> extents(shape.begin(), shape.end()), steps(chunks.begin(), chunks.end());
  return common::ChunkGrid::of(extents, steps).value_or(common::ChunkGrid{});
}

using common::Error;
using common::Result;
using refstore::json_quote;

constexpr std::string_view kPureDimension = "This is a netCDF dimension but not a netCDF variable";

herr_t innermost_error(unsigned depth, const H5E_error2_t* error, void* data) {
  if (depth == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
  return 0;
}

// `summary`, and what the HDF5 library's innermost error says (such as "truncated file: eof =
// 1000, ..." or "file signature not found").
std::string library_error(const std::string& summary) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &detail);
  return detail.empty() ? summary : summary + " (" + detail + ")";
}

std::string basename_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string object_name(hid_t object) {
  const ssize_t size = H5Iget_name(object, nullptr, 0);
  std::string name(size > 0 ? static_cast<std::size_t>(size) : 0, '\0');
  if (size > 0) H5Iget_name(object, name.data(), name.size() + 1);
  return name;
}

herr_t first_scale_name(hid_t, unsigned, hid_t scale, void* data) {
  *static_cast<std::string*>(data) = basename_of(object_name(scale));
  return 1;  // one is enough
}

// "0.0.0" for a rank of 3: the key of the only chunk.
std::string zero_key(std::size_t rank) {
  std::string key = "0";
  for (std::size_t d = 1; d < rank; ++d) key += ".0";
  return key;
}

// Types netCDF-C opens as variables (and so numbers dimensions for).
bool seen_by_netcdf(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_STRING:
    case H5T_ENUM:
    case H5T_OPAQUE:
    case H5T_COMPOUND:
    case H5T_VLEN:
      return true;
    default:
      return false;
  }
}

class Scanner {
 public:
  // `location` names the file in messages and is what H5Fopen is given; `access` says how the
  // library reads it, `bytes` how the scanner itself does.
  Scanner(const std::string& location, FileBytes& bytes, hid_t access, const ScanOptions& options)
      : location_(location), bytes_(bytes), access_(access), options_(options) {
    url_ = options.url.empty() ? location : options.url;
  }

  ScanResult run() {
    const Handle file(H5Fopen(location_.c_str(), H5F_ACC_RDONLY, access_), H5Fclose);
    if (!file.valid()) throw ScanError(location_ + ": " + library_error("not an HDF5 file, or it cannot be read"));
    // HDF5 1.10's H5Dget_chunk_info calls report chunk addresses relative to the superblock,
    // which follows any user block, while H5Dget_offset reports file offsets: chunk addresses
    // need the user block's size added (h5py's get_chunk_info has the same gap). Measured on
    // files with a 512-byte user block; tests/e2e/test_scan.py keeps checking it.
    const Handle create(H5Fget_create_plist(file.get()), H5Pclose);
    if (H5Pget_userblock(create.get(), &base_) < 0) base_ = 0;
    const Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    add_group(root.get(), "", DimensionNamer::kRoot);
    dimensions_.finish();
    return std::move(result_);
  }

 private:
  void put(const std::string& key, std::string bytes) { result_.references[key] = std::move(bytes); }

  void add_group(hid_t group, const std::string& prefix, DimensionNamer::Group names) {
    put(prefix + ".zgroup", "{\"zarr_format\": 2}");
    put(prefix + ".zattrs", json_object(user_attributes(group)));
    H5O_info_t info{};
    if (H5Oget_info2(group, &info, H5O_INFO_BASIC) >= 0) visited_groups_.insert(info.addr);
    struct Context {
      Scanner* scanner;
      std::string prefix;
      DimensionNamer::Group names;
    } context{this, prefix, names};
    // netCDF-C reads a group in creation order where the file keeps it, else by name: the same
    // order here numbers phony dimensions the same way.
    const Handle create(H5Gget_create_plist(group), H5Pclose);
    unsigned order_flags = 0;
    H5Pget_link_creation_order(create.get(), &order_flags);
    const bool creation_order = (order_flags & H5P_CRT_ORDER_TRACKED) && (order_flags & H5P_CRT_ORDER_INDEXED);
    hsize_t index = 0;
    H5Literate(
        group, creation_order ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME, H5_ITER_INC, &index,
        [](hid_t parent, const char* name, const H5L_info_t* link, void* data) -> herr_t {
          auto* c = static_cast<Context*>(data);
          c->scanner->add_link(parent, name, link->type, c->prefix, c->names);
          return 0;
        },
        &context);
  }

  void add_link(hid_t parent, const char* name, H5L_type_t type, const std::string& prefix,
                DimensionNamer::Group names) {
    const std::string path = prefix + netcdf_name(parent, name);
    if (type == H5L_TYPE_EXTERNAL) return skip(path, "external link: the target file is not scanned");
    const Handle object(H5Oopen(parent, name, H5P_DEFAULT), H5Oclose);
    if (!object.valid()) return skip(path, "a link that leads nowhere");
    switch (H5Iget_type(object.get())) {
      case H5I_GROUP: {
        H5O_info_t info{};
        if (H5Oget_info2(object.get(), &info, H5O_INFO_BASIC) >= 0 && visited_groups_.contains(info.addr)) {
          return skip(path, "a link back to a group already scanned");
        }
        add_group(object.get(), path + "/", dimensions_.add_group(names));
        return;
      }
      case H5I_DATASET:
        add_dataset(object.get(), path, names);
        return;
      default:
        return skip(path, "a named datatype, not data");
    }
  }

  // netCDF-4 stores a variable named like a dimension it does not index as _nc4_non_coord_NAME
  // (NAME being that dimension's scale, which is no variable): netCDF readers know it as NAME, and
  // so does zarr here, unless a real dataset has that name.
  static std::string netcdf_name(hid_t parent, const char* name) {
    constexpr std::string_view kPrefix = "_nc4_non_coord_";
    const std::string_view link(name);
    if (!link.starts_with(kPrefix) || link.size() == kPrefix.size()) return std::string(link);
    std::string netcdf(link.substr(kPrefix.size()));
    if (H5Lexists(parent, netcdf.c_str(), H5P_DEFAULT) <= 0) return netcdf;
    const Handle other(H5Oopen(parent, netcdf.c_str(), H5P_DEFAULT), H5Oclose);
    const bool pure_dimension = other.valid() && H5Iget_type(other.get()) == H5I_DATASET &&
                                string_attribute(other.get(), "NAME").starts_with(kPureDimension);
    return pure_dimension ? netcdf : std::string(link);
  }

  void skip(const std::string& path, std::string reason) {
    result_.datasets.push_back({path, DatasetReport::Outcome::Skipped, std::move(reason)});
  }
  void refuse(const std::string& path, std::string reason) {
    erase_dataset(path);  // nothing stays that could decode to wrong values
    result_.datasets.push_back({path, DatasetReport::Outcome::Refused, std::move(reason)});
  }
  void erase_dataset(const std::string& path) {
    result_.references.erase(result_.references.lower_bound(path + "/"), result_.references.lower_bound(path + "0"));
  }

  // Registers the dataset's dimensions; its .zattrs is written once they are named, if the
  // dataset was not refused by then.
  void name_dimensions(hid_t dataset, hid_t type, const std::string& path, DimensionNamer::Group group,
                       const std::vector<hsize_t>& shape, const std::vector<hsize_t>& max_shape,
                       const std::vector<hsize_t>& element_shape, std::map<std::string, std::string> attributes) {
    std::vector<std::string> names;
    std::vector<DimensionNamer::Extent> extents;
    const bool is_scale = H5DSis_scale(dataset) > 0;
    for (unsigned d = 0; d < shape.size(); ++d) {
      std::string name;
      if (is_scale && d == 0) {
        name = basename_of(path);
      } else if (H5DSget_num_scales(dataset, d) > 0) {
        H5DSiterate_scales(dataset, d, nullptr, first_scale_name, &name);
      }
      names.push_back(name);
      extents.push_back({shape[d], max_shape[d] == H5S_UNLIMITED});
    }
    for (const hsize_t length : element_shape) {
      names.emplace_back();
      extents.push_back({length, false});
    }
    const bool netcdf = seen_by_netcdf(type) && element_shape.empty();
    dimensions_.add_variable(
        group, std::move(names), std::move(extents), netcdf,
        [this, path, attributes = std::move(attributes)](const std::vector<std::string>& final) mutable {
          if (!result_.references.contains(path + "/.zarray")) return;
          attributes["_ARRAY_DIMENSIONS"] = json_names(final);
          put(path + "/.zattrs", json_object(attributes));
        });
  }

  void add_dataset(hid_t dataset, const std::string& path, DimensionNamer::Group group) {
    const Handle space(H5Dget_space(dataset), H5Sclose);
    const Handle type(H5Dget_type(dataset), H5Tclose);
    const Handle plist(H5Dget_create_plist(dataset), H5Pclose);
    if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) return skip(path, "a null dataspace holds no data");
    const std::size_t rank = static_cast<std::size_t>(std::max(H5Sget_simple_extent_ndims(space.get()), 0));
    std::vector<hsize_t> shape(rank), max_shape(rank);
    H5Sget_simple_extent_dims(space.get(), shape.data(), max_shape.data());
    if (H5DSis_scale(dataset) > 0 && rank > 0) {
      dimensions_.add_dimension(group, basename_of(path), {shape[0], max_shape[0] == H5S_UNLIMITED});
    }
    if (string_attribute(dataset, "NAME").starts_with(kPureDimension)) return;  // a netCDF dimension, not a variable

    auto zarr = zarr_type(type.get());
    std::map<std::string, std::string> attributes = user_attributes(dataset);
    if (zarr && H5Tget_class(type.get()) == H5T_ENUM && !is_bool_enum(type.get())) {
      for (auto& [name, value] : enum_attributes(type.get())) attributes.try_emplace(name, std::move(value));
    }
    name_dimensions(dataset, type.get(), path, group, shape, max_shape,
                    zarr ? zarr->element_shape : std::vector<hsize_t>{}, std::move(attributes));
    if (!zarr) return refuse(path, zarr.error().message);

    const H5D_layout_t layout = H5Pget_layout(plist.get());
    std::vector<hsize_t> chunks = shape;
    if (layout == H5D_CHUNKED) H5Pget_chunk(plist.get(), static_cast<int>(rank), chunks.data());
    for (hsize_t& c : chunks) c = std::max<hsize_t>(c, 1);
    const std::uint64_t element_bytes = H5Tget_size(zarr->memory.get());
    std::uint64_t bytes_total = element_bytes;
    for (const hsize_t extent : shape) bytes_total *= extent;

    if (zarr->storage == ZarrType::Storage::VlenString || zarr->storage == ZarrType::Storage::VlenSequence) {
      return add_variable_length(dataset, *zarr, space.get(), path, shape);
    }
    if (zarr->storage == ZarrType::Storage::StringRecords) {
      auto records = read_string_records(dataset, type.get());
      if (!records) return refuse(path, records.error().message);
      if (records->bytes.size() > options_.inline_unsupported) {
        return refuse(path, "its variable-length string members make " + std::to_string(records->bytes.size()) +
                                " bytes of fixed-length records, more than --inline-unsupported (" +
                                std::to_string(options_.inline_unsupported) + " bytes)");
      }
      zarr->dtype = std::move(records->dtype);
      put_zarray({path, &*zarr, shape, "null", records->bytes.size()}, shape, "null");
      put(path + "/" + zero_key(std::max<std::size_t>(rank, 1)), std::move(records->bytes));
      result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
      return;
    }
    std::string fill = "null";
    H5D_fill_value_t defined{};
    if (H5Pfill_value_defined(plist.get(), &defined) >= 0 && defined != H5D_FILL_VALUE_UNDEFINED) {
      std::vector<unsigned char> bytes(element_bytes);
      if (H5Pget_fill_value(plist.get(), zarr->memory.get(), bytes.data()) >= 0)
        fill = fill_value_json(*zarr, bytes.data());
    }
    const Dataset described{path, &*zarr, shape, fill, bytes_total};

    const auto filters = zarr_filters(plist.get(), H5Tget_size(type.get()));
    if (layout == H5D_COMPACT || (filters && zarr->storage == ZarrType::Storage::Packed)) {
      return add_decoded(dataset, described, "its compound members have gaps that zarr cannot describe");
    }
    if (!filters) return add_decoded(dataset, described, filters.error().message);

    if (layout == H5D_CONTIGUOUS && options_.split_contiguous > 0 && bytes_total > options_.split_contiguous) {
      const auto split =
          split_shape(std::vector<std::uint64_t>(shape.begin(), shape.end()), element_bytes, options_.split_contiguous);
      chunks.assign(split.begin(), split.end());
    }
    put_zarray(described, chunks, filters->json);
    const std::string chunk_prefix = path + "/";
    const std::string element_suffix = zarr->element_shape.empty() ? "" : "." + zero_key(zarr->element_shape.size());
    if (layout == H5D_CONTIGUOUS) {
      const haddr_t offset = H5Dget_offset(dataset);
      if (offset != HADDR_UNDEF) add_contiguous(chunk_prefix, element_suffix, offset, shape, chunks, element_bytes);
    } else if (const auto added =
                   add_chunks(dataset, chunk_prefix, element_suffix, filters->checksum_bytes, shape, chunks);
               !added) {
      // Some chunks are stored differently from the rest (an optional filter that gave up on
      // them): zarr has one codec list per array, so HDF5 decodes the whole dataset instead.
      erase_dataset(path);
      return add_decoded(dataset, described, added.error().message);
    }
    result_.datasets.push_back({path, DatasetReport::Outcome::Referenced, ""});
  }

  // What .zarray says about a dataset, whichever way its data is stored.
  struct Dataset {
    std::string path;
    const ZarrType* zarr;
    std::vector<hsize_t> shape;
    std::string fill;
    std::uint64_t bytes;
  };

  void put_zarray(const Dataset& dataset, const std::vector<hsize_t>& chunks, const std::string& filters) {
    std::vector<hsize_t> zarr_shape = dataset.shape, zarr_chunks = chunks;
    const auto& element_shape = dataset.zarr->element_shape;
    zarr_shape.insert(zarr_shape.end(), element_shape.begin(), element_shape.end());
    zarr_chunks.insert(zarr_chunks.end(), element_shape.begin(), element_shape.end());
    for (hsize_t& c : zarr_chunks) c = std::max<hsize_t>(c, 1);
    put(dataset.path + "/.zarray",
        "{\"chunks\": " + json_list(zarr_chunks) + ", \"compressor\": null, \"dtype\": " + dataset.zarr->dtype +
            ", \"fill_value\": " + dataset.fill + ", \"filters\": " + filters +
            ", \"order\": \"C\", \"shape\": " + json_list(zarr_shape) + ", \"zarr_format\": 2}");
  }

  // The whole dataset read by HDF5 (its filters undone, its compound members packed) and inlined
  // as one chunk, when it is no larger than --inline-unsupported (compact data always is small).
  void add_decoded(hid_t dataset, const Dataset& described, const std::string& why) {
    const Handle plist(H5Dget_create_plist(dataset), H5Pclose);
    if (H5Pget_layout(plist.get()) != H5D_COMPACT && described.bytes > options_.inline_unsupported) {
      return refuse(described.path, why + "; the dataset is larger than --inline-unsupported (" +
                                        std::to_string(options_.inline_unsupported) + " bytes)");
    }
    std::string bytes(described.bytes, '\0');
    if (H5Dread(dataset, described.zarr->memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0) {
      return refuse(described.path, "its data cannot be decoded here (" + why + ")");
    }
    put_zarray(described, described.shape, "null");
    const std::size_t rank = described.shape.size() + described.zarr->element_shape.size();
    put(described.path + "/" + zero_key(std::max<std::size_t>(rank, 1)), std::move(bytes));
    result_.datasets.push_back({described.path, DatasetReport::Outcome::Inlined, ""});
  }

  // Contiguous data as one chunk, or split into row-aligned chunks (see split_shape).
  void add_contiguous(const std::string& prefix, const std::string& suffix, std::uint64_t offset,
                      const std::vector<hsize_t>& shape, const std::vector<hsize_t>& chunks,
                      std::uint64_t element_bytes) {
    std::uint64_t chunk_bytes = 0;
    for (const ContiguousPiece& piece :
         contiguous_pieces(std::vector<std::uint64_t>(shape.begin(), shape.end()),
                           std::vector<std::uint64_t>(chunks.begin(), chunks.end()), element_bytes, chunk_bytes)) {
      const std::string key = !shape.empty()   ? common::chunk_key(piece.position) + suffix
                              : suffix.empty() ? "0"
                                               : suffix.substr(1);
      // An edge chunk is filled out by the bytes after it in the file, or zeros where the file ends.
      if (piece.stored < chunk_bytes && offset + piece.start + chunk_bytes > bytes_.size()) {
        std::string bytes(chunk_bytes, '\0');
        bytes_.read(offset + piece.start, piece.stored, bytes.data());
        put(prefix + key, std::move(bytes));
      } else {
        add_chunk(prefix + key, offset + piece.start, chunk_bytes);
      }
    }
  }

  // Variable-length values, read whole and inlined as one chunk in numcodecs' framing: an item
  // count, then each item's byte length and bytes (little-endian 32-bit numbers).
  void add_variable_length(hid_t dataset, const ZarrType& zarr, hid_t space, const std::string& path,
                           const std::vector<hsize_t>& shape) {
    const hssize_t count = H5Sget_simple_extent_npoints(space);
    const auto append32 = [](std::string& out, std::uint32_t value) {
      for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
    };
    std::string chunk;
    append32(chunk, static_cast<std::uint32_t>(count));
    std::string codec;
    if (zarr.storage == ZarrType::Storage::VlenString) {
      const Handle type(H5Dget_type(dataset), H5Tclose);
      const Handle memory(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(memory.get(), H5T_VARIABLE);
      H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
      std::vector<char*> items(static_cast<std::size_t>(count));
      if (H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, items.data()) < 0) {
        return refuse(path, "its strings cannot be read");
      }
      for (const char* item : items) {
        const std::string_view text = item ? item : "";
        append32(chunk, static_cast<std::uint32_t>(text.size()));
        chunk += text;
      }
      H5Dvlen_reclaim(memory.get(), space, H5P_DEFAULT, items.data());
      codec = "[{\"id\": \"vlen-utf8\"}], \"fill_value\": \"\"";
    } else {
      // Read with the file's own item type, so the bytes stay in the byte order the dtype names.
      const Handle items_type(H5Tget_super(zarr.memory.get()), H5Tclose);
      const Handle memory(H5Tvlen_create(items_type.get()), H5Tclose);
      std::vector<hvl_t> items(static_cast<std::size_t>(count));
      if (H5Dread(dataset, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, items.data()) < 0) {
        return refuse(path, "its variable-length values cannot be read");
      }
      const std::size_t item_bytes = H5Tget_size(items_type.get());
      for (const hvl_t& item : items) {
        append32(chunk, static_cast<std::uint32_t>(item.len * item_bytes));
        chunk.append(static_cast<const char*>(item.p), item.len * item_bytes);
      }
      H5Dvlen_reclaim(memory.get(), space, H5P_DEFAULT, items.data());
      codec = "[{\"dtype\": " + json_quote(zarr.base_dtype) + ", \"id\": \"vlen-array\"}], \"fill_value\": null";
    }
    std::vector<hsize_t> chunks = shape;
    for (hsize_t& c : chunks) c = std::max<hsize_t>(c, 1);
    put(path + "/.zarray", "{\"chunks\": " + json_list(chunks) + ", \"compressor\": null, \"dtype\": \"|O\", " +
                               "\"filters\": " + codec + ", \"order\": \"C\", \"shape\": " + json_list(shape) +
                               ", \"zarr_format\": 2}");
    put(path + "/" + zero_key(std::max<std::size_t>(shape.size(), 1)), std::move(chunk));
    result_.datasets.push_back({path, DatasetReport::Outcome::Inlined, ""});
  }

  void add_chunk(const std::string& key, std::uint64_t offset, std::uint64_t length) {
    add_chunk_reference(result_, bytes_, key, url_, offset, length, length < options_.inline_threshold);
  }

  // Every stored chunk: from the v1 B-tree in one pass where the dataset has one, otherwise by
  // asking the library for each position of the chunk grid.
  common::Status add_chunks(hid_t dataset, const std::string& prefix, const std::string& suffix,
                            std::uint64_t checksum_bytes, const std::vector<hsize_t>& shape,
                            const std::vector<hsize_t>& chunks) {
    const auto add = [&](const std::string& key, std::uint64_t address, std::uint64_t size) -> common::Status {
      if (size < checksum_bytes) return common::Error{"chunk " + key + " is shorter than its checksum"};
      add_chunk(prefix + key + suffix, address, size - checksum_bytes);
      return common::Ok{};
    };
    if (!options_.library_chunk_index) {
      if (const auto index = read_v1_btree_chunks(bytes_, dataset, static_cast<int>(shape.size()))) {
        return add_indexed_chunks(*index, shape, chunks, add);
      }
    }
    return add_chunks_by_coordinate(dataset, shape, chunks, add);
  }

  template <typename Add>
  common::Status add_indexed_chunks(const std::vector<ChunkLocation>& index, const std::vector<hsize_t>& shape,
                                    const std::vector<hsize_t>& chunks, const Add& add) {
    for (const ChunkLocation& chunk : index) {
      std::string key;
      for (std::size_t d = 0; d < shape.size(); ++d) {
        // The index only ever holds chunks on the grid inside the extent; anything else means
        // the file is not what it seems, and nothing it says is used.
        if (chunk.offset[d] % chunks[d] != 0 || chunk.offset[d] >= std::max<hsize_t>(shape[d], 1)) {
          return common::Error{"its chunk index lists a chunk off the chunk grid"};
        }
        key += (d ? "." : "") + std::to_string(chunk.offset[d] / chunks[d]);
      }
      if (chunk.filter_mask != 0) {
        return common::Error{"chunk " + key + " skipped some of its filters (mask " +
                             std::to_string(chunk.filter_mask) + ")"};
      }
      if (auto added = add(key, chunk.address, chunk.size); !added) return added;
    }
    return common::Ok{};
  }

  template <typename Add>
  common::Status add_chunks_by_coordinate(hid_t dataset, const std::vector<hsize_t>& shape,
                                          const std::vector<hsize_t>& chunks, const Add& add) {
    const std::size_t rank = shape.size();
    std::vector<hsize_t> offset(rank);
    const common::ChunkGrid grid = chunk_grid(shape, chunks);
    for (std::uint64_t n = 0; n < grid.chunk_count(); ++n) {
      const std::vector<std::uint64_t> position = grid.coordinates(n);
      for (std::size_t d = 0; d < rank; ++d) offset[d] = position[d] * chunks[d];
      const std::string key = common::chunk_key(position);
      unsigned mask = 0;
      haddr_t address = HADDR_UNDEF;
      hsize_t size = 0;
      if (H5Dget_chunk_info_by_coord(dataset, offset.data(), &mask, &address, &size) >= 0 && address != HADDR_UNDEF) {
        if (mask != 0) {
          return common::Error{"chunk " + key + " skipped some of its filters (mask " + std::to_string(mask) + ")"};
        }
        if (auto added = add(key, base_ + address, size); !added) return added;
      }
    }
    return common::Ok{};
  }

  std::string location_;
  FileBytes& bytes_;
  hid_t access_;
  ScanOptions options_;
  std::string url_;
  ScanResult result_;
  std::set<haddr_t> visited_groups_;
  hsize_t base_ = 0;  // the user block's size
  DimensionNamer dimensions_;
};

}  // namespace

bool is_hdf5(std::string_view /*location*/, FileBytes& /*bytes*/) {
  return true;  // the HDF5 library decides: its signature may follow a user block of any power-of-two size
}

Result<ScanResult> scan_hdf5(const std::string& location, FileBytes& bytes, const ScanOptions& options) {
  try {
    // A local file is opened by the library itself (its own reads, the page cache); any other
    // through a virtual file driver over `bytes`.
    if (bytes.is_local_file()) return Scanner(location, bytes, H5P_DEFAULT, options).run();
    const RemoteDriver driver;
    const Handle access = driver.access_list(bytes);
    if (!access.valid()) return Error{location + ": the HDF5 library refused the remote file driver"};
    return Scanner(location, bytes, access.get(), options).run();
  } catch (const ScanError& error) {
    return Error{error.what()};
  }
}

}  // namespace kerchunkfs::sources
