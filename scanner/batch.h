// Running one job per input file over many files: in this process, or in N worker processes
// (the HDF5 library serialises every call, so threads would not scan in parallel), with a
// progress line on standard error when it is a terminal.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace kerchunkfs::scanner {

struct BatchOptions {
  int jobs = 1;
  bool progress = false;  // draw the progress line (only when standard error is a terminal)
  std::string what = "files";
};

// Calls job(i) for every index of `inputs` (in worker processes when jobs > 1, each handling
// every jobs-th file); returns true when every call returned true and every worker exited cleanly.
bool run_batch(const std::vector<std::string>& inputs, const BatchOptions& options,
               const std::function<bool(std::size_t index)>& job);

}  // namespace kerchunkfs::scanner
