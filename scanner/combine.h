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
};

struct CombineInput {
  std::string name;  // the file it came from, for messages
  refstore::ReferenceMap references;
};

class CombineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws CombineError, one line naming the variable and the files, when the inputs cannot be
// joined exactly. `reader` reads coordinate values and the variables checked to be identical.
refstore::ReferenceMap combine(std::vector<CombineInput> inputs, const std::vector<ConcatDimension>& dimensions,
                               ReferenceReader& reader);

}  // namespace kerchunkfs::scanner
