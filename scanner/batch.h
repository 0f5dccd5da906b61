// Running one job per input file over many files, in N worker processes (the HDF5 library
// serialises every call, so threads would not scan in parallel), with a progress line on
// standard error when it is a terminal. A malformed file that crashes the HDF5 library, or sends
// it into an endless loop, costs that file and nothing else: the worker that was reading it is
// replaced, and the others go on.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace kerchunkfs::scanner {

struct BatchOptions {
  int jobs = 1;
  bool progress = false;  // draw the progress line (only when standard error is a terminal)
  std::string what = "files";
  unsigned file_timeout_s = 600;  // a file's job is stopped after this long; 0: never
};

// Calls job(i) for every index of `inputs` in worker processes, which take the next file as they
// finish one; returns the indices, in order, of the jobs that did not return true. A job that
// crashed or ran out of time is reported on standard error, naming the file.
std::vector<std::size_t> run_batch(const std::vector<std::string>& inputs, const BatchOptions& options,
                                   const std::function<bool(std::size_t index)>& job);

}  // namespace kerchunkfs::scanner
