#include "daemon/options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "fetch/remote_options.h"

namespace kerchunkfs::daemon {
namespace {

using common::Error;
using common::Ok;
using common::Status;

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A size option's value into `field`, at least `minimum` bytes.
Status set_size(std::string_view text, std::uint64_t& field, std::uint64_t minimum) {
  const auto value = parse_size(text);
  if (!value) return Error{"not a size (examples: 65536, 64K, 512M, 2G)"};
  if (*value < minimum) return Error{"the smallest allowed is " + std::to_string(minimum) + " bytes"};
  field = *value;
  return Ok{};
}

// A whole-number option's value, from `minimum` to `maximum`.
common::Result<std::uint64_t> count(std::string_view text, std::uint64_t minimum, std::uint64_t maximum) {
  const auto value = parse_count(text);
  if (!value || *value < minimum || *value > maximum) {
    return Error{"expected a whole number from " + std::to_string(minimum) + " to " + std::to_string(maximum)};
  }
  return *value;
}

template <class Field>
Status set_count(std::string_view text, Field& field, std::uint64_t minimum, std::uint64_t maximum,
                 std::uint64_t scale = 1) {
  const auto value = count(text, minimum, maximum);
  if (!value) return value.error();
  field = static_cast<Field>(*value * scale);
  return Ok{};
}

Status set_local_roots(std::string_view text, Settings& s) {
  for (const std::string& directory : split_list(text)) {
    char real[PATH_MAX];
    struct stat st {};
    if (::realpath(directory.c_str(), real) == nullptr || ::stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Error{directory + " is not a directory"};
    }
    s.filesystem.local_roots.emplace_back(real);
  }
  return Ok{};
}

Status set_hosts(std::string_view text, Settings& s) {
  s.filesystem.fetch.http.allowed_hosts = split_list(text);
  if (s.filesystem.fetch.http.allowed_hosts.empty()) return Error{"no host named"};
  return Ok{};
}

Status set_log_level(std::string_view text, Settings& s) {
  if (text != "info" && text != "error") return Error{"the levels are info and error"};
  s.log_level = text;
  return Ok{};
}

// clang-format off
constexpr OptionSpec kOwnOptions[] = {
  {"target", "URL", "target of references whose URL is null",
   [](std::string_view v, Settings& s) -> Status { s.target = std::string(v); return Ok{}; }},
  {"cache_size", "SIZE", "block cache for remote data (default: 1/8 of memory, 64M..4G)",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.fetch.cache_size, 1 << 20); }},
  {"block_size", "SIZE", "unit for whole files and ranges larger than it (default 4M)",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.fetch.block_size, 4096); }},
  {"prefetch", "SIZE", "read ahead up to this much per chunk read (default 64M; 0: off)",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.prefetch_bytes, 0); }},
  {"max_gap", "SIZE", "join prefetched ranges this close (default 64K) ...",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.fetch.max_gap, 0); }},
  {"max_block", "SIZE", "... into requests up to this size (default 16M)",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.fetch.max_block, 4096); }},
  {"max_connections", "N", "open HTTP connections at most, over every host and scheme (default 100)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.fetch.http.max_connections, 1, 1024); }},
  {"retries", "N", "retries of a failed request (default 5)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.fetch.http.retries, 0, 100); }},
  {"retry_delay", "MS", "first retry delay, doubled each time (default 200)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.fetch.http.retry_delay_ms, 1, 600'000); }},
  {"timeout", "SECONDS", "one request attempt at most (default 120)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.fetch.http.timeout_ms, 1, 86'400, 1000); }},
  {"connect_timeout", "SECONDS", "connecting at most (default 10)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.fetch.http.connect_timeout_ms, 1, 3'600, 1000); }},
  {"disk_cache", "DIR", "keep fetched blocks in DIR across mounts too (default: memory only)",
   [](std::string_view v, Settings& s) -> Status {
     // Made absolute: the daemon changes to / when it detaches. A missing DIR is no error here:
     // the mount runs on memory alone, saying so.
     const std::string path(v);
     if (path.empty()) return common::Error{"disk_cache: no directory named"};
     char resolved[PATH_MAX];
     s.filesystem.fetch.disk.directory = ::realpath(path.c_str(), resolved) != nullptr ? resolved : path;
     return Ok{};
   }},
  {"disk_cache_size", "SIZE", "the disk cache's limit, every daemon's blocks in DIR together (default 4G)",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.fetch.disk.size_limit, 1 << 20); }},
  {"disk_cache_trust", "SECONDS", "serve blocks of objects confirmed this recently without asking (default 0)",
   [](std::string_view v, Settings& s) {
     std::uint64_t seconds = 0;
     auto set = set_count(v, seconds, 0, 10ull * 365 * 86'400);
     s.filesystem.fetch.disk.trust = std::chrono::seconds(seconds);
     return set;
   }},
  {"watch", "", "load the reference file again when it changes (as on SIGHUP)",
   [](std::string_view, Settings& s) -> Status { s.watch = true; return Ok{}; }},
  {"watch_interval", "SECONDS", "how often -o watch asks a set by URL for its ETag/Last-Modified (default 60)",
   [](std::string_view v, Settings& s) { return set_count(v, s.watch_interval_s, 1, 86'400); }},
  {"log_level", "LEVEL", "info (default) or error: the least severe messages logged", set_log_level},
  {"no_stats", "", "no /.kerchunkfs/stats (counters, Prometheus text format)",
   [](std::string_view, Settings& s) -> Status { s.filesystem.stats = false; return Ok{}; }},
  {"no_zmetadata", "", "offer no synthesized /.zmetadata (consolidated metadata)",
   [](std::string_view, Settings& s) -> Status { s.filesystem.consolidated = false; return Ok{}; }},
  {"decode", "", "show arrays decoded: compressor and filters null, chunks as raw array bytes",
   [](std::string_view, Settings& s) -> Status { s.filesystem.decode = true; return Ok{}; }},
  {"decode_cache", "SIZE", "decoded chunks kept in memory with -o decode (default 512M)",
   [](std::string_view v, Settings& s) { return set_size(v, s.filesystem.decode_cache_bytes, 1 << 20); }},
  {"decode_threads", "N", "threads decoding chunks with -o decode (default: one per core)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.decode_threads, 1, 256); }},
  {"parquet_cache", "SIZE", "decoded refs.K.parq files kept for a parquet reference set (default 64M)",
   [](std::string_view v, Settings& s) { return set_size(v, s.parquet_cache_bytes, 1 << 20); }},
  {"config", "FILE", "further options from FILE, one name=value a line",
   [](std::string_view, Settings&) -> Status { return Ok{}; }},  // read before the others apply
  {"allow_local", "DIR[:DIR...]", "read local files (paths, file://) only under these directories, "
   "after resolving links (default: none at all)", set_local_roots},
  {"allow_hosts", "HOST[:HOST...]", "remote hosts allowed, redirects included; *.example.org "
   "allows its subdomains (default: any)", set_hosts},
  {"allow_link_local", "", "allow link-local addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) as data targets",
   [](std::string_view, Settings& s) -> Status { s.filesystem.fetch.http.allow_link_local = true; return Ok{}; }},
  {"max_keys", "N", "refuse sets of more keys, gen entries included (default 100000000)",
   [](std::string_view v, Settings& s) { return set_count(v, s.filesystem.max_keys, 1, 4'000'000'000); }},
};
// clang-format on

}  // namespace

std::span<const OptionSpec> option_table() {
  // The daemon's own options, then those it shares with kerchunkfs-scan (fetch/remote_options.h).
  static const std::vector<OptionSpec> table = [] {
    std::vector<OptionSpec> options(std::begin(kOwnOptions), std::end(kOwnOptions));
    for (const fetch::RemoteOptionSpec& remote : fetch::remote_option_table()) {
      options.push_back(OptionSpec{remote.name, remote.value, remote.help, nullptr, remote.repeatable, &remote});
    }
    return options;
  }();
  return table;
}

const OptionSpec* find_option(std::string_view name) {
  const auto table = option_table();
  const auto found = std::find_if(table.begin(), table.end(), [&](const auto& o) { return o.name == name; });
  return found == table.end() ? nullptr : &*found;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto number = parse_count(text.substr(0, digits));
  if (!number) return std::nullopt;
  std::string_view unit = text.substr(digits);
  if (unit.ends_with("iB")) unit.remove_suffix(2);
  int shift = 0;
  if (unit.size() == 1) {
    const std::string_view units = "KMGT";
    const std::size_t position = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (position == std::string_view::npos) return std::nullopt;
    shift = 10 * static_cast<int>(position + 1);
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  if (shift > 0 && *number > (UINT64_MAX >> shift)) return std::nullopt;
  return *number << shift;
}

std::uint64_t default_cache_size() {
  const auto pages = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES));
  const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return std::clamp<std::uint64_t>(pages * page / 8, 64ull << 20, 4ull << 30);
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t end = std::min(text.find(':', start), text.size());
    if (end > start) items.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

common::Result<Settings> apply_options(const GivenOptions& given) {
  Settings settings;
  settings.filesystem.fetch.cache_size = default_cache_size();
  fetch::RemoteAccess remote{settings.filesystem.fetch.http, settings.filesystem.s3,
                             settings.filesystem.remote_protocol};
  for (const OptionSpec& option : option_table()) {  // in table order, whatever order they were given in
    const auto found = given.find(option.name);
    if (found == given.end()) continue;
    std::string_view values = found->second;
    do {  // a repeatable option's values, a line each; any other's one value
      const std::string_view value = option.repeatable ? values.substr(0, values.find('\n')) : values;
      values.remove_prefix(std::min(values.size(), value.size() + 1));
      if (const Status status =
              option.remote != nullptr ? option.remote->apply(value, remote) : option.apply(value, settings);
          !status) {
        return Error{"-o " + std::string(option.name) + (option.value.empty() ? "" : "=" + std::string(value)) + ": " +
                     status.error().message};
      }
    } while (!values.empty());
  }
  auto& http = settings.filesystem.fetch.http;
  if (const auto unbounded = fetch::unbounded_credentials(http)) {
    return Error{"-o " + std::string(*unbounded) + " needs -o auth_hosts: the hosts the " +
                 (*unbounded == "header" ? "headers" : "token") + " may go to"};
  }
  // A stall shorter than the whole timeout, so a trickle is abandoned before the deadline.
  http.stall_timeout_s = std::max<long>(1, std::min<long>(20, http.timeout_ms / 1000));
  return settings;
}

std::string value_given_again(const OptionSpec& option, const std::string& before, std::string_view value) {
  return option.repeatable ? before + "\n" + std::string(value) : std::string(value);
}

Status read_config_file(const std::string& path, GivenOptions& given) {
  std::ifstream file(path);
  if (!file) return Error{path + ": cannot read the file"};
  GivenOptions from_file;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    const std::size_t equals = line.find('=');
    const std::string name = line.substr(0, std::min(equals, line.find_first_of(" \t")));
    const auto where = [&] { return path + ":" + std::to_string(number) + ": "; };
    const OptionSpec* option = find_option(name);
    if (option == nullptr || option->name == "config") {
      return Error{where() + "unknown option \"" + name + "\"" +
                   (equals == std::string::npos ? " (or a missing '=')" : "")};
    }
    if (option->value.empty() != (equals == std::string::npos)) {
      return Error{where() + "option \"" + name + "\" " + (option->value.empty() ? "takes no value" : "needs a value")};
    }
    std::string value = equals == std::string::npos ? "" : line.substr(equals + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    const auto before = from_file.find(name);
    from_file[name] = before == from_file.end() ? value : value_given_again(*option, before->second, value);
  }
  given.merge(from_file);  // the command line's options stay as they are
  return Ok{};
}

std::string options_help() {
  std::string text;
  for (const OptionSpec& option : option_table()) {
    std::string usage =
        "    -o " + std::string(option.name) + (option.value.empty() ? "" : "=" + std::string(option.value));
    usage += usage.size() < 30 ? std::string(30 - usage.size(), ' ') : "\n" + std::string(30, ' ');
    text += usage + std::string(option.help) + "\n";
  }
  return text;
}

}  // namespace kerchunkfs::daemon
