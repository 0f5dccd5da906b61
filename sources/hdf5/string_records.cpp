#include "sources/hdf5/string_records.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "refstore/writer.h"
#include "sources/hdf5/hdf5_handle.h"
#include "sources/hdf5/types.h"

namespace kerchunkfs::sources {
namespace {

// One fixed-size piece of a record: bytes copied as they are, or a string pointer whose text is
// written padded to the longest text of that member.
struct Leaf {
  std::size_t memory_offset;
  std::size_t size;  // bytes copied; for strings, the longest text (found after reading)
  bool is_string;
};

// The type HDF5 reads into: the file's compound packed in offset order, strings as char*.
// Records the leaves in the same order.
common::Result<Handle> memory_type(hid_t type, std::size_t base, std::vector<Leaf>& leaves) {
  switch (H5Tget_class(type)) {
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) {
        Handle text(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(text.get(), H5T_VARIABLE);
        H5Tset_cset(text.get(), H5Tget_cset(type));
        leaves.push_back({base, 0, true});
        return text;
      }
      break;
    case H5T_VLEN:
      return common::Error{"compound type with a variable-length sequence member has no zarr form"};
    case H5T_COMPOUND: {
      std::vector<std::pair<std::string, Handle>> parts;
      std::size_t size = 0;
      for (const unsigned m : members_by_offset(type)) {
        const Handle member(H5Tget_member_type(type, m), H5Tclose);
        auto part = memory_type(member.get(), base + size, leaves);
        if (!part) return part.error();
        size += H5Tget_size(part->get());
        parts.emplace_back(member_name(type, m), std::move(*part));
      }
      Handle compound(H5Tcreate(H5T_COMPOUND, std::max<std::size_t>(size, 1)), H5Tclose);
      std::size_t offset = 0;
      for (const auto& [name, part] : parts) {
        H5Tinsert(compound.get(), name.c_str(), offset, part.get());
        offset += H5Tget_size(part.get());
      }
      return compound;
    }
    default:
      break;
  }
  if (const auto fixed = zarr_type(type); !fixed) return fixed.error();
  leaves.push_back({base, H5Tget_size(type), false});
  return Handle(H5Tcopy(type), H5Tclose);
}

// The structured dtype, strings sized by `leaves` (walked in the order memory_type made them).
std::string dtype_json(hid_t type, const std::vector<Leaf>& leaves, std::size_t& next) {
  if (H5Tget_class(type) == H5T_COMPOUND) {
    std::string out = "[";
    for (const unsigned m : members_by_offset(type)) {
      const Handle member(H5Tget_member_type(type, m), H5Tclose);
      out += (out.size() > 1 ? ", [" : "[") + refstore::json_quote(member_name(type, m)) + ", " +
             dtype_json(member.get(), leaves, next) + "]";
    }
    return out + "]";
  }
  const Leaf& leaf = leaves[next++];
  if (leaf.is_string) return refstore::json_quote("|S" + std::to_string(std::max<std::size_t>(leaf.size, 1)));
  const auto zarr = zarr_type(type);  // it mapped when memory_type made this leaf
  std::string dtype = zarr->dtype;
  // A fixed-size array member keeps its shape: [name, base, shape] in numpy's list form.
  if (!zarr->element_shape.empty()) {
    dtype += ", [";
    for (std::size_t i = 0; i < zarr->element_shape.size(); ++i)
      dtype += (i ? ", " : "") + std::to_string(zarr->element_shape[i]);
    dtype += "]";
  }
  return dtype;
}

}  // namespace

common::Result<StringRecords> read_string_records(hid_t dataset, hid_t file_type) {
  std::vector<Leaf> leaves;
  auto memory = memory_type(file_type, 0, leaves);
  if (!memory) return memory.error();
  const Handle space(H5Dget_space(dataset), H5Sclose);
  const auto count = static_cast<std::size_t>(std::max<hssize_t>(H5Sget_simple_extent_npoints(space.get()), 0));
  const std::size_t record = H5Tget_size(memory->get());
  std::vector<unsigned char> buffer(count * record);
  if (H5Dread(dataset, memory->get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
    return common::Error{"its records cannot be read"};
  }
  const auto text_at = [&](std::size_t r, const Leaf& leaf) {
    const char* text = nullptr;
    std::memcpy(&text, buffer.data() + r * record + leaf.memory_offset, sizeof text);
    return text ? std::string_view(text) : std::string_view();
  };
  for (Leaf& leaf : leaves) {
    if (!leaf.is_string) continue;
    for (std::size_t r = 0; r < count; ++r) leaf.size = std::max(leaf.size, text_at(r, leaf).size());
  }
  StringRecords out;
  std::size_t next = 0;
  out.dtype = dtype_json(file_type, leaves, next);
  std::size_t out_record = 0;
  for (const Leaf& leaf : leaves) out_record += leaf.is_string ? std::max<std::size_t>(leaf.size, 1) : leaf.size;
  out.bytes.assign(count * out_record, '\0');
  char* at = out.bytes.data();
  for (std::size_t r = 0; r < count; ++r) {
    for (const Leaf& leaf : leaves) {
      if (leaf.is_string) {
        const std::string_view text = text_at(r, leaf);
        std::memcpy(at, text.data(), text.size());
        at += std::max<std::size_t>(leaf.size, 1);
      } else {
        std::memcpy(at, buffer.data() + r * record + leaf.memory_offset, leaf.size);
        at += leaf.size;
      }
    }
  }
  H5Dvlen_reclaim(memory->get(), space.get(), H5P_DEFAULT, buffer.data());
  return out;
}

}  // namespace kerchunkfs::sources
