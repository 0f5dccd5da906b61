// How a format's scanner gives up deep inside a file (a header that lies, a read that fails),
// private to sources/: each format's scan function catches it at its edge and returns the
// Result its SourceFormat line promises (sources/source_format.h). Its message names the file.
#pragma once

#include <stdexcept>

namespace kerchunkfs::sources {

class ScanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kerchunkfs::sources
