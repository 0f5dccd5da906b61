// HDF5 datatypes as zarr v2 dtypes, and values of those types as JSON.
#pragma once

#include <hdf5.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sources/hdf5/hdf5_handle.h"
#include "sources/json_text.h"

namespace kerchunkfs::sources {

struct ZarrType {
  std::string dtype;                   // the .zarray "dtype" value as JSON: "\"<f4\"" or a structured list
  std::vector<hsize_t> element_shape;  // an HDF5 array type's dimensions: zarr sees them as trailing axes
  enum class Storage {
    Raw,            // the stored bytes are exactly zarr's bytes: chunks can be referenced
    Packed,         // a compound with gaps between members: HDF5 reads it into `memory`, inlined
    VlenString,     // variable-length strings: read whole, inlined with the vlen-utf8 codec
    VlenSequence,   // variable-length sequences of numbers: inlined with the vlen-array codec
    StringRecords,  // compounds with variable-length string members: see string_records.h
  } storage = Storage::Raw;
  Handle memory;           // the type to read inlined data with (the file type unless Packed)
  std::string base_dtype;  // VlenSequence: the items' dtype
};

// How `type` appears in zarr, or why it cannot.
[[nodiscard]] common::Result<ZarrType> zarr_type(hid_t type);

// One value in the bytes of `zarr.memory`, as the JSON zarr expects for a fill value.
std::string fill_value_json(const ZarrType& zarr, const unsigned char* bytes);

// An enum's members as CF flag attributes: flag_values and flag_meanings, by ascending value.
std::map<std::string, std::string> enum_attributes(hid_t type);

// A compound member's name, and the members' indices in the order they sit in a record.
std::string member_name(hid_t compound, unsigned index);
std::vector<unsigned> members_by_offset(hid_t compound);

// h5py's and PyTables' booleans: an 8-bit enum of FALSE = 0 and TRUE = 1.
bool is_bool_enum(hid_t type);

}  // namespace kerchunkfs::sources
