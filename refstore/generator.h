// The "gen" entries of a version-1 reference set (kerchunk's spec): each a key and a URL
// template, optional offset and length templates, and named dimensions (ranges or lists) whose
// cartesian product, last dimension fastest as in itertools.product, gives one entry a
// combination. Private to refstore: the parser reads "gen" with simdjson On-Demand and hands each
// entry here, which checks it, bounds it by max_keys before expanding, and adds its entries.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <string>

#include "refstore/refstore.h"
#include "refstore/template.h"

namespace kerchunkfs::refstore {

class StoreBuilder;

struct GenerateContext {
  StoreBuilder& builder;
  const TemplateTable& templates;
  std::uint64_t max_keys;
  std::function<std::string()> location;  // " at line L, column C" of what is being read, or ""
};

// Reads the gen entry `object` (named `context` in messages, "gen[2]") and adds the entries it
// generates; throws LoadError naming the entry and, for a value that fails, its variables.
void expand_generator(simdjson::ondemand::object& object, const std::string& context, const GenerateContext& generate);

}  // namespace kerchunkfs::refstore
