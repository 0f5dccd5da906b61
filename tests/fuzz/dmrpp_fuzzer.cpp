// libFuzzer entry point: see targets.h.
#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kerchunkfs::fuzz::dmrpp_input(data, size);
  return 0;
}
