// How the loader reports bad input inside refstore: thrown from deep in the parser (templates,
// gen expansion, nested values) and caught at the public entry points, which return a Result.
// Never seen outside refstore.
#pragma once

#include <stdexcept>

namespace kerchunkfs::refstore {

// The message is one line naming the key (and the file, for load_file) and the problem.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kerchunkfs::refstore
