// kerchunkfs-scan [options] FILE... (-o OUT.json | --out-dir DIR): HDF5/netCDF4 → reference sets.
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scanner/scan.h"

namespace {

using kerchunkfs::scanner::DatasetReport;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void usage(FILE* out) {
  std::fprintf(out,
               "usage: kerchunkfs-scan [options] FILE... (-o OUT.json | --out-dir DIR)\n"
               "\n"
               "Scan HDF5/netCDF4 files and write reference sets that kerchunkfs, fsspec and kerchunk read.\n"
               "\n"
               "  -o, --output FILE        the reference set of one input file\n"
               "  --out-dir DIR            one reference set per input, DIR/NAME.json\n"
               "  --url URL                the URL written into references (default: the input's path);\n"
               "                           {name} is replaced by the input's file name\n"
               "  --inline-threshold N     chunks smaller than N bytes are inlined (default 500)\n"
               "  --inline-unsupported N   datasets whose filters have no zarr codec are decoded and\n"
               "                           inlined up to N bytes (default 1048576); larger ones are refused\n"
               "  --split-contiguous N     split uncompressed contiguous datasets into chunks of at most N\n"
               "                           bytes along their first axes (default 0: never)\n"
               "  --version 0|1            reference spec version written (default 1)\n"
               "  --skip-unsupported       exit 0 even when some datasets could not be referenced\n"
               "  -q, --quiet              no report on stderr\n"
               "  -h, --help               this text\n");
}

std::string replace_name(std::string url, const std::string& name) {
  for (std::size_t at; (at = url.find("{name}")) != std::string::npos;) url.replace(at, 6, name);
  return url;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::vector<std::string> inputs;
  std::string output, out_dir, url;
  kerchunkfs::scanner::ScanOptions options;
  int version = 1;
  bool skip_unsupported = false, quiet = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "kerchunkfs-scan: %s needs %s\n", arg.c_str(), what);
        std::exit(kExitUsage);
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    } else if (arg == "-o" || arg == "--output") {
      output = value("a file name");
    } else if (arg == "--out-dir") {
      out_dir = value("a directory");
    } else if (arg == "--url") {
      url = value("a URL");
    } else if (arg == "--inline-threshold" || arg == "--inline-unsupported" || arg == "--split-contiguous") {
      const std::string text = value("a number of bytes");
      char* end = nullptr;
      const std::uint64_t bytes = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || text[0] == '-') {
        std::fprintf(stderr, "kerchunkfs-scan: %s %s: not a number of bytes\n", arg.c_str(), text.c_str());
        return kExitUsage;
      }
      (arg == "--inline-threshold"     ? options.inline_threshold
       : arg == "--split-contiguous" ? options.split_contiguous
                                     : options.inline_unsupported) = bytes;
    } else if (arg == "--version") {
      const std::string text = value("0 or 1");
      if (text != "0" && text != "1") {
        std::fprintf(stderr, "kerchunkfs-scan: --version %s: the reference spec versions are 0 and 1\n", text.c_str());
        return kExitUsage;
      }
      version = text == "1" ? 1 : 0;
    } else if (arg == "--chunk-index") {
      // Undocumented: "library" makes every chunk a library lookup, to compare with the file index.
      options.library_chunk_index = value("file or library") == "library";
    } else if (arg == "--skip-unsupported") {
      skip_unsupported = true;
    } else if (arg == "-q" || arg == "--quiet") {
      quiet = true;
    } else if (arg.starts_with("-")) {
      std::fprintf(stderr, "kerchunkfs-scan: unknown option %s (see --help)\n", arg.c_str());
      return kExitUsage;
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty() || output.empty() == out_dir.empty()) {
    usage(stderr);
    return kExitUsage;
  }
  if (!output.empty() && inputs.size() > 1) {
    std::fprintf(stderr, "kerchunkfs-scan: %zu files and one -o: give --out-dir for one reference set per file\n",
                 inputs.size());
    return kExitUsage;
  }

  // No library teardown at exit: it unloads the filter plugins, orphaning what they keep in their
  // own globals (hdf5-blosc's buffers, which LeakSanitizer then reports), for no gain at exit.
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by us, once, in one line
  int status = 0;
  for (const std::string& input : inputs) {
    const std::string name = std::filesystem::path(input).filename().string();
    options.url = url.empty() ? std::filesystem::absolute(input).string() : replace_name(url, name);
    kerchunkfs::scanner::ScanResult result;
    try {
      result = kerchunkfs::scanner::scan_file(input, options);
    } catch (const kerchunkfs::scanner::ScanError& error) {
      std::fprintf(stderr, "kerchunkfs-scan: %s\n", error.what());
      status = kExitFailure;
      continue;
    }
    const std::string target = output.empty() ? (std::filesystem::path(out_dir) / (name + ".json")).string() : output;
    std::ofstream out(target, std::ios::binary);
    kerchunkfs::refstore::write_references(out, result.references, version);
    if (!out.flush()) {
      std::fprintf(stderr, "kerchunkfs-scan: %s: cannot write: %s\n", target.c_str(), std::strerror(errno));
      return kExitFailure;
    }
    std::size_t counts[4] = {};
    for (const DatasetReport& report : result.datasets) {
      ++counts[static_cast<int>(report.outcome)];
      if (report.outcome == DatasetReport::Outcome::Refused) {
        std::fprintf(stderr, "kerchunkfs-scan: %s: %s: not referenced: %s\n", input.c_str(), report.path.c_str(),
                     report.reason.c_str());
        if (!skip_unsupported) status = kExitFailure;
      } else if (report.outcome == DatasetReport::Outcome::Skipped && !quiet) {
        std::fprintf(stderr, "kerchunkfs-scan: %s: %s: skipped: %s\n", input.c_str(), report.path.c_str(),
                     report.reason.c_str());
      }
    }
    if (!quiet) {
      std::fprintf(stderr, "%s: %zu datasets referenced (%llu chunk references), %zu inlined, %zu refused, %zu skipped -> %s\n",
                   input.c_str(), counts[0], static_cast<unsigned long long>(result.chunk_references), counts[1],
                   counts[2], counts[3], target.c_str());
    }
  }
  return status;
}
