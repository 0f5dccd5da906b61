// kerchunkfs-scan: HDF5/netCDF4 files → reference sets, one per file or combined into one;
// kerchunkfs-scan combine: reference sets → one combined reference set.
#include <glob.h>
#include <hdf5.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "fetch/source_registry.h"
#include "fetch/url.h"
#include "refstore/refstore.h"
#include "scanner/batch.h"
#include "scanner/combine.h"
#include "scanner/parquet_references.h"
#include "scanner/reference_files.h"
#include "scanner/scan.h"
#include "sources/source_format.h"

namespace {

using kerchunkfs::scanner::ConcatDimension;
using kerchunkfs::scanner::CoordinateSource;
using kerchunkfs::scanner::DatasetReport;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void usage(FILE* out) {
  std::fprintf(out,
               "usage: kerchunkfs-scan [options] FILE... (-o OUT.json | --out-dir DIR)\n"
               "       kerchunkfs-scan [options] --concat-dim DIM FILE... -o OUT.json\n"
               "       kerchunkfs-scan combine [options] --concat-dim DIM REFS.json... -o OUT.json\n"
               "\n"
               "Scan HDF5/netCDF4 files and write reference sets that kerchunkfs, fsspec and kerchunk read;\n"
               "combine many into one dataset. Inputs may be @LIST (one per line) or quoted globs.\n"
               "\n"
               "  -o, --output FILE        the reference set written (.gz or .zst: compressed; .parq: a\n"
               "                           directory in kerchunk's parquet layout)\n"
               "  --record-size N          references per refs.K.parq file of the parquet layout\n"
               "                           (default 100000, as kerchunk)\n"
               "  --out-dir DIR            one reference set per input, DIR/NAME.json\n"
               "  --url URL                the URL written into references (default: the input's path);\n"
               "                           {name} is replaced by the input's file name\n"
               "  --inline-threshold N     chunks smaller than N bytes are inlined (default 500)\n"
               "  --inline-unsupported N   datasets whose filters have no zarr codec are decoded and\n"
               "                           inlined up to N bytes (default 1048576); larger ones are refused\n"
               "  --split-contiguous N     split uncompressed contiguous datasets into chunks of at most N\n"
               "                           bytes along their first axes (default 0: never)\n"
               "  --no-default-fill        netCDF3 variables without _FillValue get no zarr fill value (as\n"
               "                           xarray's netCDF reader; default: netCDF's default fill, masked\n"
               "                           as netCDF4-python masks it)\n"
               "  --dmrpp-byte-order LE|BE the byte order of DMR++ variables whose sidecar omits it (older\n"
               "                           build_dmrpp; OPeNDAP's server reads them in its own, little-\n"
               "                           endian order); default: such variables are refused\n"
               "  --concat-dim DIM         combine the inputs along DIM (repeat for several dimensions)\n"
               "  --coordinate DIM=SOURCE  where an input's place along DIM comes from: variable (the\n"
               "                           coordinate variable DIM, the default), attr:NAME (a global\n"
               "                           attribute), attr:VARIABLE:NAME (a variable's attribute),\n"
               "                           regex:PATTERN (on the file name) or index\n"
               "  --assemble-chunk DIM=N   chunk extent along DIM of arrays assembled from files whose\n"
               "                           chunks or packing differ (default: the smallest among the files;\n"
               "                           such arrays need kerchunkfs -o decode, see the man page)\n"
               "  -j, --jobs N             scan N files at once, in N processes (default 1)\n"
               "  --shard I/N              work on the I-th (from 0) of N equal slices of the inputs\n"
               "  --file-timeout SECONDS   give up on a file after this long (default 600; 0: never)\n"
               "  --failed-list FILE       write the inputs that failed to FILE, one per line (for a re-run\n"
               "                           with @FILE); an empty file when none did\n"
               "  --version 0|1            reference spec version written (default 1)\n"
               "\n"
               "Remote inputs (http://, https://, s3://, gs://) are read in place, through a block cache:\n"
               "  --block-size N           bytes per cached block (default 65536; 0: no cache, every read\n"
               "                           the HDF5 library makes is a request of its own)\n"
               "  --first-read N           bytes asked for by the first request (default 2097152)\n"
               "  --s3-endpoint URL        S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS)\n"
               "  --s3-region REGION       region of s3:// URLs (default: AWS_REGION, profile, us-east-1)\n"
               "  --anonymous              unsigned S3 requests, for public buckets\n"
               "  --netrc FILE             login credentials per host (default: ~/.netrc when there is one)\n"
               "  --insecure               do not verify TLS certificates\n"
               "  --remote-protocol P      s3, gs, http or https: inputs without a scheme are objects of it\n"
               "                           (bucket/key.nc with s3), as fsspec's remote_protocol\n"
               "  --bearer-token-file FILE a bearer token sent to the --auth-hosts alone\n"
               "  --header NAME:VALUE      a header sent to the --auth-hosts alone (repeat for more)\n"
               "  --auth-hosts H[:H...]    hosts the token and headers go to (*.example.org: subdomains)\n"
               "  --s3-credentials-url URL temporary S3 keys from a DAAC-style s3credentials endpoint\n"
               "  --requester-pays         the reader pays for requests to requester-pays buckets\n"
               "  --skip-unsupported       exit 0 even when some datasets could not be referenced\n"
               "  -q, --quiet              no report or progress on stderr\n"
               "  -h, --help               this text\n");
}

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "kerchunkfs-scan: %s\n", message.c_str());
  std::exit(kExitUsage);
}

struct CommandLine {
  bool combine_only = false;  // the "combine" subcommand: inputs are reference sets
  std::vector<std::string> inputs;
  std::string output, out_dir, url, failed_list;
  kerchunkfs::fetch::S3Options s3;
  kerchunkfs::fetch::HttpOptions http;
  std::string remote_protocol;  // inputs without a scheme are objects of this protocol
  kerchunkfs::scanner::ScanOptions scan;
  std::vector<ConcatDimension> dimensions;
  int version = 1, jobs = 1;
  std::uint64_t record_size = kerchunkfs::scanner::kDefaultRecordSize;
  unsigned file_timeout_s = 600;
  std::size_t shard = 0, shards = 1;
  bool skip_unsupported = false, quiet = false;
};

std::uint64_t byte_count(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const std::uint64_t bytes = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || text[0] == '-') usage_error(option + " " + text + ": not a number of bytes");
  return bytes;
}

CoordinateSource coordinate_source(const std::string& text) {
  if (text == "variable") return {CoordinateSource::Kind::Variable, ""};
  if (text == "index") return {CoordinateSource::Kind::Index, ""};
  if (text.starts_with("attr:")) return {CoordinateSource::Kind::Attribute, text.substr(5)};
  if (text.starts_with("regex:")) return {CoordinateSource::Kind::FileName, text.substr(6)};
  usage_error("--coordinate: " + text + " is not variable, index, attr:NAME or regex:PATTERN");
}

bool is_remote(const std::string& input) { return kerchunkfs::fetch::url_scheme(input) != "file"; }

// The file name an input's output and {name} are made of: the last part of a path or of a
// URL's path.
std::string file_name(const std::string& input) {
  std::string path = input.substr(0, input.find_first_of(is_remote(input) ? "?#" : ""));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path.substr(path.rfind('/') + 1);
}

// @LIST files and quoted globs, expanded in order.
void add_input(const std::string& argument, std::vector<std::string>& inputs) {
  if (argument.starts_with("@")) {
    std::ifstream list(argument.substr(1));
    if (!list) usage_error(argument.substr(1) + ": cannot read the input list");
    for (std::string line; std::getline(list, line);) {
      if (!line.empty() && line[0] != '#') inputs.push_back(line);
    }
    return;
  }
  if (argument.find_first_of("*?[") != std::string::npos && !is_remote(argument) &&
      !std::filesystem::exists(argument)) {
    glob_t matches{};
    if (::glob(argument.c_str(), 0, nullptr, &matches) == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) inputs.emplace_back(matches.gl_pathv[i]);
    }
    globfree(&matches);
    return;
  }
  inputs.push_back(argument);
}

CommandLine parse(int argc, char* argv[]) {
  CommandLine line;
  std::vector<std::pair<std::string, CoordinateSource>> sources;
  std::vector<std::pair<std::string, std::uint64_t>> assembled_chunks;
  int first = 1;
  if (argc > 1 && std::string(argv[1]) == "combine") {
    line.combine_only = true;
    first = 2;
  }
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* what) -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs " + what);
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    } else if (arg == "-o" || arg == "--output") {
      line.output = value("a file name");
    } else if (arg == "--out-dir") {
      line.out_dir = value("a directory");
    } else if (arg == "--url") {
      line.url = value("a URL");
    } else if (arg == "--inline-threshold") {
      line.scan.inline_threshold = byte_count(arg, value("a number of bytes"));
    } else if (arg == "--inline-unsupported") {
      line.scan.inline_unsupported = byte_count(arg, value("a number of bytes"));
    } else if (arg == "--split-contiguous") {
      line.scan.split_contiguous = byte_count(arg, value("a number of bytes"));
    } else if (arg == "--concat-dim") {
      line.dimensions.push_back({value("a dimension name"), {}});
    } else if (arg == "--coordinate") {
      const std::string text = value("DIM=SOURCE");
      const auto equals = text.find('=');
      if (equals == std::string::npos) usage_error("--coordinate " + text + ": not DIM=SOURCE");
      sources.emplace_back(text.substr(0, equals), coordinate_source(text.substr(equals + 1)));
    } else if (arg == "--record-size") {
      line.record_size = byte_count(arg, value("a number of references"));
      if (line.record_size == 0) usage_error("--record-size: at least 1");
    } else if (arg == "--assemble-chunk") {
      const std::string text = value("DIM=N");
      const auto equals = text.find('=');
      if (equals == std::string::npos) usage_error("--assemble-chunk " + text + ": not DIM=N");
      const std::uint64_t extent = byte_count("--assemble-chunk", text.substr(equals + 1));
      if (extent == 0) usage_error("--assemble-chunk " + text + ": the extent must be at least 1");
      assembled_chunks.emplace_back(text.substr(0, equals), extent);
    } else if (arg == "-j" || arg == "--jobs") {
      line.jobs = static_cast<int>(byte_count(arg, value("a number of processes")));
      if (line.jobs < 1) usage_error(arg + ": at least 1");
    } else if (arg == "--file-timeout") {
      line.file_timeout_s = static_cast<unsigned>(byte_count(arg, value("a number of seconds")));
    } else if (arg == "--shard") {
      const std::string text = value("I/N");
      std::size_t shard = 0, shards = 0;
      char tail = 0;
      if (std::sscanf(text.c_str(), "%zu/%zu%c", &shard, &shards, &tail) != 2 || shards == 0 || shard >= shards) {
        usage_error("--shard " + text + ": not I/N with 0 <= I < N");
      }
      line.shard = shard;
      line.shards = shards;
    } else if (arg == "--failed-list") {
      line.failed_list = value("a file name");
    } else if (arg == "--block-size") {
      line.scan.remote.block_size = byte_count(arg, value("a number of bytes"));
    } else if (arg == "--first-read") {
      line.scan.remote.first_read = byte_count(arg, value("a number of bytes"));
    } else if (arg == "--s3-endpoint") {
      line.s3.endpoint = value("a URL");
    } else if (arg == "--s3-region") {
      line.s3.region = value("a region");
    } else if (arg == "--anonymous") {
      line.s3.anonymous = true;
    } else if (arg == "--netrc") {
      line.http.netrc_file = value("a file");
      line.s3.netrc_file = line.http.netrc_file;  // for --s3-credentials-url too
      if (::access(line.http.netrc_file.c_str(), R_OK) != 0)
        usage_error("--netrc " + line.http.netrc_file + ": cannot read it");
    } else if (arg == "--insecure") {
      line.http.insecure = true;
    } else if (arg == "--dmrpp-byte-order") {
      line.scan.dmrpp_byte_order = value("LE or BE");
      if (line.scan.dmrpp_byte_order != "LE" && line.scan.dmrpp_byte_order != "BE") {
        usage_error("--dmrpp-byte-order " + line.scan.dmrpp_byte_order + ": not LE or BE");
      }
    } else if (arg == "--no-default-fill") {
      line.scan.default_fill = false;
    } else if (arg == "--remote-protocol") {
      line.remote_protocol = value("s3, gs, http or https");
      if (line.remote_protocol != "s3" && line.remote_protocol != "gs" && line.remote_protocol != "http" &&
          line.remote_protocol != "https") {
        usage_error("--remote-protocol " + line.remote_protocol + ": not s3, gs, http or https");
      }
    } else if (arg == "--bearer-token-file") {
      line.http.bearer_token_file = value("a file");
      if (::access(line.http.bearer_token_file.c_str(), R_OK) != 0) {
        usage_error("--bearer-token-file " + line.http.bearer_token_file + ": cannot read it");
      }
    } else if (arg == "--header") {
      const std::string text = value("NAME:VALUE");
      const std::size_t colon = text.find(':');
      if (colon == 0 || colon == std::string::npos || text.find_first_of(" \t\r\n") < colon ||
          text.find_first_of("\r\n") != std::string::npos) {
        usage_error("--header: \"" + text.substr(0, colon) + "\" is not NAME:VALUE with a header name");
      }
      const std::size_t value_start = text.find_first_not_of(' ', colon + 1);
      line.http.headers.push_back(text.substr(0, colon) + ": " +
                                  (value_start == std::string::npos ? "" : text.substr(value_start)));
    } else if (arg == "--auth-hosts") {
      line.http.auth_hosts.clear();
      const std::string text = value("HOST[:HOST...]");
      for (std::size_t start = 0; start <= text.size();) {
        const std::size_t end = std::min(text.find(':', start), text.size());
        if (end > start) line.http.auth_hosts.push_back(text.substr(start, end - start));
        start = end + 1;
      }
    } else if (arg == "--s3-credentials-url") {
      line.s3.credentials_url = value("a URL");
    } else if (arg == "--requester-pays") {
      line.s3.requester_pays = true;
    } else if (arg == "--version") {
      const std::string text = value("0 or 1");
      if (text != "0" && text != "1") usage_error("--version " + text + ": the reference spec versions are 0 and 1");
      line.version = text == "1" ? 1 : 0;
    } else if (arg == "--chunk-index") {
      // Undocumented: "library" makes every chunk a library lookup, to compare with the file index.
      line.scan.library_chunk_index = value("file or library") == "library";
    } else if (arg == "--skip-unsupported") {
      line.skip_unsupported = true;
    } else if (arg == "-q" || arg == "--quiet") {
      line.quiet = true;
    } else if (arg.starts_with("-") && arg != "-") {
      usage_error("unknown option " + arg + " (see --help)");
    } else {
      add_input(arg, line.inputs);
    }
  }
  if ((!line.http.bearer_token_file.empty() || !line.http.headers.empty()) && line.http.auth_hosts.empty()) {
    usage_error("--bearer-token-file and --header need --auth-hosts: the hosts they may go to");
  }
  if (!line.remote_protocol.empty() && !line.combine_only) {
    for (std::string& input : line.inputs) {
      if (!is_remote(input)) input = line.remote_protocol + "://" + input;
    }
  }
  for (const auto& assembled : assembled_chunks) {
    const std::string& name = assembled.first;
    auto dimension = std::ranges::find_if(line.dimensions, [&](const ConcatDimension& d) { return d.name == name; });
    if (dimension == line.dimensions.end()) usage_error("--assemble-chunk " + name + "=...: no --concat-dim " + name);
    dimension->assembled_chunk = assembled.second;
  }
  for (const auto& source : sources) {
    const std::string& name = source.first;
    auto dimension = std::ranges::find_if(line.dimensions, [&](const ConcatDimension& d) { return d.name == name; });
    if (dimension == line.dimensions.end()) usage_error("--coordinate " + name + "=...: no --concat-dim " + name);
    dimension->source = source.second;
  }
  const bool combining = line.combine_only || !line.dimensions.empty();
  if (line.inputs.empty() || line.output.empty() == line.out_dir.empty() || (combining && line.output.empty())) {
    usage(stderr);
    std::exit(kExitUsage);
  }
  if (line.combine_only && line.dimensions.empty()) usage_error("combine needs --concat-dim");
  if (!combining && !line.output.empty() && line.inputs.size() > 1 && line.shards == 1) {
    usage_error(std::to_string(line.inputs.size()) +
                " files and one -o: give --out-dir for one reference set per file, "
                "or --concat-dim to combine them");
  }
  // A shard: the I-th of N contiguous slices of the input list.
  const std::size_t total = line.inputs.size();
  line.inputs = std::vector<std::string>(
      line.inputs.begin() + static_cast<std::ptrdiff_t>(line.shard * total / line.shards),
      line.inputs.begin() + static_cast<std::ptrdiff_t>((line.shard + 1) * total / line.shards));
  if (line.inputs.empty())
    usage_error("shard " + std::to_string(line.shard) + "/" + std::to_string(line.shards) + " holds no input");
  return line;
}

std::string url_for(const CommandLine& line, const std::string& input) {
  // A sidecar's data file (a DMR++ sidecar's granule) is named by the sidecar, or lies beside it.
  const std::string_view suffix = kerchunkfs::sources::sidecar_suffix(input);
  const bool sidecar = !suffix.empty();
  if (line.url.empty()) return sidecar ? "" : is_remote(input) ? input : std::filesystem::absolute(input).string();
  std::string url = line.url;
  std::string name = file_name(input);
  if (sidecar && name.ends_with(suffix)) name.resize(name.size() - suffix.size());  // the data file's name
  for (std::size_t at; (at = url.find("{name}")) != std::string::npos;) url.replace(at, 6, name);
  return url;
}

// Scans one file into `target`; prints its report lines. False when it failed or refused data.
bool scan_one(const CommandLine& line, const kerchunkfs::fetch::SourceRegistry* sources, const std::string& input,
              const std::string& target, bool report) {
  kerchunkfs::scanner::ScanOptions options = line.scan;
  options.sources = sources;
  options.url = url_for(line, input);
  auto scanned = kerchunkfs::scanner::scan_file(input, options);
  if (!scanned) {
    std::fprintf(stderr, "kerchunkfs-scan: %s\n", scanned.error().message.c_str());
    return false;
  }
  const kerchunkfs::scanner::ScanResult& result = *scanned;
  if (const auto written =
          kerchunkfs::scanner::write_reference_file(target, result.references, line.version, line.record_size);
      !written) {
    std::fprintf(stderr, "kerchunkfs-scan: %s\n", written.error().message.c_str());
    return false;
  }
  bool ok = true;
  std::size_t counts[4] = {};
  for (const DatasetReport& dataset : result.datasets) {
    ++counts[static_cast<int>(dataset.outcome)];
    if (dataset.outcome == DatasetReport::Outcome::Refused) {
      std::fprintf(stderr, "kerchunkfs-scan: %s: %s: not referenced: %s\n", input.c_str(), dataset.path.c_str(),
                   dataset.reason.c_str());
      ok = ok && line.skip_unsupported;
    } else if (dataset.outcome == DatasetReport::Outcome::Skipped && !line.quiet) {
      std::fprintf(stderr, "kerchunkfs-scan: %s: %s: skipped: %s\n", input.c_str(), dataset.path.c_str(),
                   dataset.reason.c_str());
    }
  }
  if (report && !line.quiet) {
    std::fprintf(stderr,
                 "%s: %zu datasets referenced (%llu chunk references), %zu inlined, %zu refused, %zu skipped -> %s\n",
                 input.c_str(), counts[0], static_cast<unsigned long long>(result.chunk_references), counts[1],
                 counts[2], counts[3], target.c_str());
  }
  return ok;
}

// Writes --failed-list, if asked for (empty when nothing failed), and, when `say`, a line counting
// the failed inputs followed by `consequence`. False when the list cannot be written.
bool report_failures(const CommandLine& line, const std::vector<std::size_t>& failed, bool say,
                     const char* consequence) {
  if (!failed.empty() && say) {
    std::fprintf(stderr, "kerchunkfs-scan: %zu of %zu inputs failed%s%s\n", failed.size(), line.inputs.size(),
                 line.failed_list.empty() ? "" : (", listed in " + line.failed_list).c_str(), consequence);
  }
  if (line.failed_list.empty()) return true;
  std::ofstream list(line.failed_list, std::ios::trunc);
  for (const std::size_t i : failed) list << line.inputs[i] << '\n';
  list.close();
  if (!list) std::fprintf(stderr, "kerchunkfs-scan: %s: cannot write the failed list\n", line.failed_list.c_str());
  return static_cast<bool>(list);
}

// A directory of our own for the per-file sets a combined scan joins; removed on exit.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/kerchunkfs-scan.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) usage_error("cannot make a scratch directory in " + pattern);
    path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(std::size_t index) const { return path_ + "/" + std::to_string(index) + ".json"; }

 private:
  std::string path_;
};

int combine(const CommandLine& line, std::vector<kerchunkfs::scanner::CombineInput> inputs,
            kerchunkfs::scanner::ReferenceReader& reader) {
  try {
    const auto combined = kerchunkfs::scanner::combine(std::move(inputs), line.dimensions, reader);
    if (const auto written =
            kerchunkfs::scanner::write_reference_file(line.output, combined, line.version, line.record_size);
        !written) {
      std::fprintf(stderr, "kerchunkfs-scan: %s\n", written.error().message.c_str());
      return kExitFailure;
    }
    if (!line.quiet) {
      std::fprintf(stderr, "combined %zu inputs along %s: %zu references -> %s\n", line.inputs.size(),
                   line.dimensions[0].name.c_str(), combined.size(), line.output.c_str());
    }
  } catch (const kerchunkfs::scanner::CombineError& error) {
    std::fprintf(stderr, "kerchunkfs-scan: %s\n", error.what());
    return kExitFailure;
  }
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  const CommandLine line = parse(argc, argv);
  // No library teardown at exit: it unloads the filter plugins, orphaning what they keep in their
  // own globals (hdf5-blosc's buffers, which LeakSanitizer then reports), for no gain at exit.
  H5dont_atexit();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by us, once, in one line
  kerchunkfs::scanner::BatchOptions batch{line.jobs, !line.quiet, "files", line.file_timeout_s};

  if (line.combine_only) {
    std::vector<kerchunkfs::scanner::CombineInput> inputs;
    for (const std::string& input : line.inputs) {
      auto references = kerchunkfs::scanner::read_reference_file(input);
      if (!references) {
        std::fprintf(stderr, "kerchunkfs-scan: %s\n", references.error().message.c_str());
        return kExitFailure;
      }
      inputs.push_back({input, std::move(references).value()});
    }
    kerchunkfs::scanner::ReferenceReader reader;
    return combine(line, std::move(inputs), reader);
  }

  // Only for remote inputs; made before the worker processes fork, each of which starts its own
  // I/O thread with its first request.
  std::optional<kerchunkfs::fetch::SourceRegistry> remote_sources;
  if (std::ranges::any_of(line.inputs, is_remote)) {
    kerchunkfs::fetch::HttpOptions http = line.http;
    http.max_unranged_body = 0;  // a server without byte ranges would be asked for whole files per block
    remote_sources.emplace(kerchunkfs::fetch::SourceRegistry::with_default_sources(http, line.s3));
  }
  const kerchunkfs::fetch::SourceRegistry* sources = remote_sources ? &*remote_sources : nullptr;

  if (line.dimensions.empty()) {
    std::error_code error;
    if (!line.out_dir.empty() && !std::filesystem::create_directories(line.out_dir, error) && error) {
      std::fprintf(stderr, "kerchunkfs-scan: %s: cannot make the directory: %s\n", line.out_dir.c_str(),
                   error.message().c_str());
      return kExitFailure;
    }
    const auto target = [&](std::size_t i) {
      const std::string name = file_name(line.inputs[i]);
      return line.output.empty() ? (std::filesystem::path(line.out_dir) / (name + ".json")).string() : line.output;
    };
    const auto failed = kerchunkfs::scanner::run_batch(
        line.inputs, batch, [&](std::size_t i) { return scan_one(line, sources, line.inputs[i], target(i), true); });
    const bool listed = report_failures(line, failed, !line.quiet && line.inputs.size() > 1, "");
    return listed && failed.empty() ? 0 : kExitFailure;
  }

  // Scan and combine: each file's set goes to a scratch file (from worker processes when -j),
  // then all are joined here.
  const ScratchDirectory scratch;
  const auto failed = kerchunkfs::scanner::run_batch(line.inputs, batch, [&](std::size_t i) {
    return scan_one(line, sources, line.inputs[i], scratch.file(i), false);
  });
  report_failures(line, failed, true, ": nothing combined");
  if (!failed.empty()) return kExitFailure;
  std::vector<kerchunkfs::scanner::CombineInput> inputs;
  kerchunkfs::scanner::ReferenceReader reader;
  for (std::size_t i = 0; i < line.inputs.size(); ++i) {
    auto references = kerchunkfs::scanner::read_reference_file(scratch.file(i));
    if (!references) {  // written by our own workers moments ago: only a full disk or the like
      std::fprintf(stderr, "kerchunkfs-scan: %s\n", references.error().message.c_str());
      return kExitFailure;
    }
    inputs.push_back({line.inputs[i], std::move(references).value()});
    if (!is_remote(line.inputs[i])) reader.read_locally(url_for(line, line.inputs[i]), line.inputs[i]);
  }
  return combine(line, std::move(inputs), reader);
}
