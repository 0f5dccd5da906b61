#include "sources/dmrpp/dap_types.h"

namespace kerchunkfs::sources {

namespace {
constexpr AtomicType kAtomicTypes[] = {
    {"Byte", 'u', 1},  {"UInt8", 'u', 1},  {"Int8", 'i', 1},    {"Char", 'S', 1},
    {"Int16", 'i', 2}, {"UInt16", 'u', 2}, {"Int32", 'i', 4},   {"UInt32", 'u', 4},
    {"Int64", 'i', 8}, {"UInt64", 'u', 8}, {"Float32", 'f', 4}, {"Float64", 'f', 8},
};
}  // namespace

const AtomicType* atomic_type(std::string_view name) {
  for (const AtomicType& type : kAtomicTypes) {
    if (type.dap == name) return &type;
  }
  return nullptr;
}

}  // namespace kerchunkfs::sources
