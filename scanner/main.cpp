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

#include "fetch/remote_options.h"
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
  // Given before the --concat-dim they name may be: joined to it once every option is read.
  std::vector<std::pair<std::string, CoordinateSource>> coordinates;
  std::vector<std::pair<std::string, std::uint64_t>> assembled_chunks;
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

// "DIM=VALUE" split at its '=', or a usage error naming the option.
std::pair<std::string, std::string> dimension_and(const std::string& option, const std::string& text,
                                                  const char* form) {
  const auto equals = text.find('=');
  if (equals == std::string::npos) usage_error(option + " " + text + ": not " + form);
  return {text.substr(0, equals), text.substr(equals + 1)};
}

// One option of kerchunkfs-scan's own: its spellings, its value, its --help text (further lines
// indented under the first) and what it sets. The remote-access options, shared with kerchunkfs,
// come from fetch/remote_options.h. Usage text, parsing and the man page test read this table.
struct ScanOption {
  std::string_view name;        // "--output"
  std::string_view short_name;  // "-o"; empty when there is none
  std::string_view value;       // "FILE"; empty for a flag
  std::string_view help;        // empty: not listed (a testing aid)
  void (*apply)(const std::string& option, const std::string& value, CommandLine& line);
};

void print_usage(FILE* out);

constexpr ScanOption kScanOptions[] = {
    {"--output", "-o", "FILE",
     "the reference set written (.gz or .zst: compressed; .parq: a\n"
     "directory in kerchunk's parquet layout)",
     [](const std::string&, const std::string& v, CommandLine& l) { l.output = v; }},
    {"--record-size", "", "N",
     "references per refs.K.parq file of the parquet layout\n"
     "(default 100000, as kerchunk)",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       l.record_size = byte_count(o, v);
       if (l.record_size == 0) usage_error(o + ": at least 1");
     }},
    {"--out-dir", "", "DIR", "one reference set per input, DIR/NAME.json",
     [](const std::string&, const std::string& v, CommandLine& l) { l.out_dir = v; }},
    {"--url", "", "URL",
     "the URL written into references (default: the input's path);\n"
     "{name} is replaced by the input's file name",
     [](const std::string&, const std::string& v, CommandLine& l) { l.url = v; }},
    {"--inline-threshold", "", "N", "chunks smaller than N bytes are inlined (default 500)",
     [](const std::string& o, const std::string& v, CommandLine& l) { l.scan.inline_threshold = byte_count(o, v); }},
    {"--inline-unsupported", "", "N",
     "datasets whose filters have no zarr codec are decoded and\n"
     "inlined up to N bytes (default 1048576); larger ones are refused",
     [](const std::string& o, const std::string& v, CommandLine& l) { l.scan.inline_unsupported = byte_count(o, v); }},
    {"--split-contiguous", "", "N",
     "split uncompressed contiguous datasets into chunks of at most N\n"
     "bytes along their first axes (default 0: never)",
     [](const std::string& o, const std::string& v, CommandLine& l) { l.scan.split_contiguous = byte_count(o, v); }},
    {"--no-default-fill", "", "",
     "netCDF3 variables without _FillValue get no zarr fill value (as\n"
     "xarray's netCDF reader; default: netCDF's default fill, masked\n"
     "as netCDF4-python masks it)",
     [](const std::string&, const std::string&, CommandLine& l) { l.scan.default_fill = false; }},
    {"--dmrpp-byte-order", "", "LE|BE",
     "the byte order of DMR++ variables whose sidecar omits it (older\n"
     "build_dmrpp; OPeNDAP's server reads them in its own, little-\n"
     "endian order); default: such variables are refused",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       if (v != "LE" && v != "BE") usage_error(o + " " + v + ": not LE or BE");
       l.scan.dmrpp_byte_order = v;
     }},
    {"--concat-dim", "", "DIM", "combine the inputs along DIM (repeat for several dimensions)",
     [](const std::string&, const std::string& v, CommandLine& l) {
       l.dimensions.push_back({v, {}});
     }},
    {"--coordinate", "", "DIM=SOURCE",
     "where an input's place along DIM comes from: variable (the\n"
     "coordinate variable DIM, the default), attr:NAME (a global\n"
     "attribute), attr:VARIABLE:NAME (a variable's attribute),\n"
     "regex:PATTERN (on the file name) or index",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       auto [dimension, source] = dimension_and(o, v, "DIM=SOURCE");
       l.coordinates.emplace_back(std::move(dimension), coordinate_source(source));
     }},
    {"--assemble-chunk", "", "DIM=N",
     "chunk extent along DIM of arrays assembled from files whose\n"
     "chunks or packing differ (default: the smallest among the files;\n"
     "such arrays need kerchunkfs -o decode, see the man page)",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       auto [dimension, text] = dimension_and(o, v, "DIM=N");
       const std::uint64_t extent = byte_count(o, text);
       if (extent == 0) usage_error(o + " " + v + ": the extent must be at least 1");
       l.assembled_chunks.emplace_back(std::move(dimension), extent);
     }},
    {"--jobs", "-j", "N", "scan N files at once, in N processes (default 1)",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       l.jobs = static_cast<int>(byte_count(o, v));
       if (l.jobs < 1) usage_error(o + ": at least 1");
     }},
    {"--shard", "", "I/N", "work on the I-th (from 0) of N equal slices of the inputs",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       std::size_t shard = 0, shards = 0;
       char tail = 0;
       if (std::sscanf(v.c_str(), "%zu/%zu%c", &shard, &shards, &tail) != 2 || shards == 0 || shard >= shards) {
         usage_error(o + " " + v + ": not I/N with 0 <= I < N");
       }
       l.shard = shard;
       l.shards = shards;
     }},
    {"--file-timeout", "", "SECONDS", "give up on a file after this long (default 600; 0: never)",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       l.file_timeout_s = static_cast<unsigned>(byte_count(o, v));
     }},
    {"--failed-list", "", "FILE",
     "write the inputs that failed to FILE, one per line (for a re-run\n"
     "with @FILE); an empty file when none did",
     [](const std::string&, const std::string& v, CommandLine& l) { l.failed_list = v; }},
    {"--version", "", "0|1", "reference spec version written (default 1)",
     [](const std::string& o, const std::string& v, CommandLine& l) {
       if (v != "0" && v != "1") usage_error(o + " " + v + ": the reference spec versions are 0 and 1");
       l.version = v == "1" ? 1 : 0;
     }},
    {"--block-size", "", "N",
     "remote inputs: bytes per cached block (default 65536; 0: no\n"
     "cache, every read the HDF5 library makes is a request of its own)",
     [](const std::string& o, const std::string& v, CommandLine& l) { l.scan.remote.block_size = byte_count(o, v); }},
    {"--first-read", "", "N", "remote inputs: bytes asked for by the first request (default 2097152)",
     [](const std::string& o, const std::string& v, CommandLine& l) { l.scan.remote.first_read = byte_count(o, v); }},
    {"--chunk-index", "", "file|library", "",  // "library": every chunk a library lookup, to compare with the index
     [](const std::string&, const std::string& v, CommandLine& l) { l.scan.library_chunk_index = v == "library"; }},
    {"--skip-unsupported", "", "", "exit 0 even when some datasets could not be referenced",
     [](const std::string&, const std::string&, CommandLine& l) { l.skip_unsupported = true; }},
    {"--quiet", "-q", "", "no report or progress on stderr",
     [](const std::string&, const std::string&, CommandLine& l) { l.quiet = true; }},
    {"--help", "-h", "", "this text",
     [](const std::string&, const std::string&, CommandLine&) {
       print_usage(stdout);
       std::exit(0);
     }},
};

// "  -o, --output FILE" and its help, lines after the first under it.
std::string usage_entry(std::string spelling, std::string_view help) {
  spelling = "  " + spelling;
  spelling += spelling.size() < 27 ? std::string(27 - spelling.size(), ' ') : "\n" + std::string(27, ' ');
  std::string text;
  for (std::size_t start = 0; start < help.size();) {
    const std::size_t end = std::min(help.find('\n', start), help.size());
    text += (start == 0 ? spelling : std::string(27, ' ')) + std::string(help.substr(start, end - start)) + "\n";
    start = end + 1;
  }
  return text;
}

void print_usage(FILE* out) {
  std::string text =
      "usage: kerchunkfs-scan [options] FILE... (-o OUT.json | --out-dir DIR)\n"
      "       kerchunkfs-scan [options] --concat-dim DIM FILE... -o OUT.json\n"
      "       kerchunkfs-scan combine [options] --concat-dim DIM REFS.json... -o OUT.json\n"
      "\n"
      "Scan HDF5/netCDF4, netCDF3 files and DMR++ sidecars and write reference sets that kerchunkfs,\n"
      "fsspec and kerchunk read; combine many into one dataset. Inputs may be @LIST (one per line)\n"
      "or quoted globs.\n"
      "\n";
  for (const ScanOption& option : kScanOptions) {
    if (option.help.empty()) continue;
    std::string spelling = option.short_name.empty() ? "" : std::string(option.short_name) + ", ";
    spelling += std::string(option.name) + (option.value.empty() ? "" : " " + std::string(option.value));
    text += usage_entry(spelling, option.help);
  }
  text += "\nRemote inputs (http://, https://, s3://, gs://) are read in place; for logins and object stores:\n";
  for (const kerchunkfs::fetch::RemoteOptionSpec& option : kerchunkfs::fetch::remote_option_table()) {
    const std::string spelling =
        kerchunkfs::fetch::scanner_spelling(option) + (option.value.empty() ? "" : " " + std::string(option.value));
    text += usage_entry(spelling, option.help);
  }
  std::fputs(text.c_str(), out);
}

CommandLine parse(int argc, char* argv[]) {
  CommandLine line;
  kerchunkfs::fetch::RemoteAccess remote{line.http, line.s3, line.remote_protocol};
  int first = 1;
  if (argc > 1 && std::string(argv[1]) == "combine") {
    line.combine_only = true;
    first = 2;
  }
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](std::string_view what) -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs " + std::string(what));
      return argv[++i];
    };
    const auto own = std::ranges::find_if(kScanOptions, [&](const ScanOption& o) {
      return arg == o.name || (!o.short_name.empty() && arg == o.short_name);
    });
    if (own != std::end(kScanOptions)) {
      own->apply(arg, own->value.empty() ? std::string() : value(own->value), line);
      continue;
    }
    const auto shared = std::ranges::find_if(kerchunkfs::fetch::remote_option_table(), [&](const auto& o) {
      return arg == kerchunkfs::fetch::scanner_spelling(o);
    });
    if (shared != kerchunkfs::fetch::remote_option_table().end()) {
      const std::string given = shared->value.empty() ? std::string() : value(shared->value);
      if (const auto applied = shared->apply(given, remote); !applied) {
        // The shared message starts with kerchunkfs's spelling of the option: this program's instead.
        std::string_view why = applied.error().message;
        if (why.starts_with(shared->name) && why.substr(shared->name.size()).starts_with(": ")) {
          why.remove_prefix(shared->name.size() + 2);
        }
        usage_error(arg + (given.empty() ? "" : " " + given) + ": " + std::string(why));
      }
      continue;
    }
    if (arg.starts_with("-") && arg != "-") usage_error("unknown option " + arg + " (see --help)");
    add_input(arg, line.inputs);
  }
  if (kerchunkfs::fetch::unbounded_credentials(line.http)) {
    usage_error("--bearer-token-file and --header need --auth-hosts: the hosts they may go to");
  }
  if (!line.remote_protocol.empty() && !line.combine_only) {
    for (std::string& input : line.inputs) {
      if (!is_remote(input)) input = line.remote_protocol + "://" + input;
    }
  }
  for (const auto& assembled : line.assembled_chunks) {
    const std::string& name = assembled.first;
    auto dimension = std::ranges::find_if(line.dimensions, [&](const ConcatDimension& d) { return d.name == name; });
    if (dimension == line.dimensions.end()) usage_error("--assemble-chunk " + name + "=...: no --concat-dim " + name);
    dimension->assembled_chunk = assembled.second;
  }
  for (const auto& source : line.coordinates) {
    const std::string& name = source.first;
    auto dimension = std::ranges::find_if(line.dimensions, [&](const ConcatDimension& d) { return d.name == name; });
    if (dimension == line.dimensions.end()) usage_error("--coordinate " + name + "=...: no --concat-dim " + name);
    dimension->source = source.second;
  }
  const bool combining = line.combine_only || !line.dimensions.empty();
  if (line.inputs.empty() || line.output.empty() == line.out_dir.empty() || (combining && line.output.empty())) {
    print_usage(stderr);
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
