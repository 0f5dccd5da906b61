// Compares two reference stores node by node: for checking that two ways of loading one set
// (one thread or two) build the same tree, numbering included.
#pragma once

#include <string>

#include "refstore/refstore.h"

namespace kerchunkfs::fuzz {

// The first difference found, described in one line; empty when the stores are the same.
std::string store_difference(const refstore::RefStore& a, const refstore::RefStore& b);

}  // namespace kerchunkfs::fuzz
