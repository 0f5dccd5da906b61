// Many reference sets → one: the arrays of every input joined along one or more concatenation
// dimensions into one aggregate zarr store, or refused, with the file named, where the result
// could read back different values from the sources.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "refstore/writer.h"
#include "scanner/chunk_values.h"

namespace kerchunkfs::scanner {

// Where an input's position along a concatenation dimension comes from.
struct CoordinateSource {
  enum class Kind {
    Variable,   // the values of the coordinate variable named like the dimension (CF times decoded)
    Attribute,  // an attribute: `detail` is NAME (global) or VARIABLE:NAME
    FileName,   // a regular expression (`detail`) on the input's file name: its first group, or the match
    Index,      // the input's position on the command line
  } kind = Kind::Variable;
  std::string detail;
};

struct ConcatDimension {
  std::string name;
  CoordinateSource source;
  // The chunk extent along this dimension of arrays kerchunkfs assembles (see combine()); 0: the
  // smallest chunk extent among the files.
  std::uint64_t assembled_chunk = 0;
};

struct CombineInput {
  std::string name;  // the file it came from, for messages
  refstore::ReferenceMap references;
};

class CombineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The id of the "compressor" that marks an array kerchunkfs assembles from differing files: no
// numcodecs codec has it, so fsspec and zarr-python refuse to open the array rather than misread it.
inline constexpr const char* kAssembledCodec = "kerchunkfs.assembled";

// Throws CombineError, one line naming the variable and the files, when the inputs cannot be
// joined exactly.
//
// Files whose chunks do not line up along the (one) concatenation dimension, or whose packing
// differs (scale_factor, add_offset, _FillValue, missing_value, the stored dtype, the codecs),
// are joined as an assembled array, a kerchunkfs extension of the reference format: the array's
// .zarray describes the result (a regular chunk grid; with differing packing the unpacked values
// in the float dtype xarray gives them, fill value NaN, packing attributes removed), its
// "compressor" is {"id": "kerchunkfs.assembled", "axis": A, "parts": [{"key": ".kerchunkfs/0",
// "offset": 0, "length": 365}, ...], "unpack": true|false}, and each file's own array (metadata,
// attributes, chunk references) sits under ARRAY/.kerchunkfs/N/. kerchunkfs -o decode assembles
// its chunks; other tools refuse the unknown codec. `reader` reads coordinate values and the variables checked to be
// identical.
refstore::ReferenceMap combine(std::vector<CombineInput> inputs, const std::vector<ConcatDimension>& dimensions,
                               ReferenceReader& reader);

}  // namespace kerchunkfs::scanner
