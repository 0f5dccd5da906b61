#include "daemon/options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>

namespace kerchunkfs::daemon {
namespace {

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto number = parse_count(text.substr(0, digits));
  if (!number) return std::nullopt;
  std::string_view unit = text.substr(digits);
  if (unit.ends_with("iB")) unit.remove_suffix(2);
  int shift = 0;
  if (unit.empty()) {
    shift = 0;
  } else if (unit.size() == 1) {
    const std::string_view units = "KMGT";
    const std::size_t position = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (position == std::string_view::npos) return std::nullopt;
    shift = 10 * static_cast<int>(position + 1);
  } else {
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

std::optional<std::string> apply_options(const RawOptions& raw, FilesystemOptions& out) {
  struct SizeOption {
    const char* name;
    const char* text;
    std::uint64_t* field;
    std::uint64_t minimum;
  };
  out.fetch.cache_size = default_cache_size();
  const SizeOption sizes[] = {
      {"cache_size", raw.cache_size, &out.fetch.cache_size, 1 << 20},
      {"block_size", raw.block_size, &out.fetch.block_size, 4096},
      {"max_gap", raw.max_gap, &out.fetch.max_gap, 0},
      {"max_block", raw.max_block, &out.fetch.max_block, 4096},
      {"prefetch", raw.prefetch, &out.prefetch_bytes, 0},
  };
  for (const SizeOption& option : sizes) {
    if (option.text == nullptr) continue;
    const auto value = parse_size(option.text);
    if (!value) return std::string("-o ") + option.name + "=" + option.text + ": not a size (examples: 65536, 64K, 512M, 2G)";
    if (*value < option.minimum) {
      return std::string("-o ") + option.name + "=" + option.text + ": the smallest allowed is " +
             std::to_string(option.minimum) + " bytes";
    }
    *option.field = *value;
  }
  struct CountOption {
    const char* name;
    const char* text;
    std::uint64_t minimum, maximum;
    std::uint64_t scale;
    std::function<void(std::uint64_t)> set;
  };
  auto& http = out.fetch.http;
  const CountOption counts[] = {
      {"max_connections", raw.max_connections, 1, 1024, 1, [&](std::uint64_t v) { http.max_connections = static_cast<unsigned>(v); }},
      {"retries", raw.retries, 0, 100, 1, [&](std::uint64_t v) { http.retries = static_cast<unsigned>(v); }},
      {"retry_delay", raw.retry_delay, 1, 600'000, 1, [&](std::uint64_t v) { http.retry_delay_ms = static_cast<long>(v); }},
      {"timeout", raw.timeout, 1, 86'400, 1000, [&](std::uint64_t v) { http.timeout_ms = static_cast<long>(v); }},
      {"connect_timeout", raw.connect_timeout, 1, 3'600, 1000, [&](std::uint64_t v) { http.connect_timeout_ms = static_cast<long>(v); }},
      {"max_keys", raw.max_keys, 1, 4'000'000'000, 1, [&](std::uint64_t v) { out.max_keys = v; }},
  };
  for (const CountOption& option : counts) {
    if (option.text == nullptr) continue;
    const auto value = parse_count(option.text);
    if (!value || *value < option.minimum || *value > option.maximum) {
      return std::string("-o ") + option.name + "=" + option.text + ": expected a whole number from " +
             std::to_string(option.minimum) + " to " + std::to_string(option.maximum);
    }
    option.set(*value * option.scale);
  }
  // A stall shorter than the whole timeout, so a trickle is abandoned before the deadline.
  http.stall_timeout_s = std::max<long>(1, std::min<long>(20, http.timeout_ms / 1000));
  http.insecure = raw.insecure != 0;
  if (raw.s3_region != nullptr) out.s3.region = raw.s3_region;
  if (raw.s3_endpoint != nullptr) out.s3.endpoint = raw.s3_endpoint;
  out.s3.path_style = raw.s3_path_style != 0;
  out.s3.anonymous = raw.anon != 0;
  out.consolidated = raw.no_zmetadata == 0;
  out.stats = raw.no_stats == 0;
  http.allow_link_local = raw.allow_link_local != 0;
  if (raw.allow_hosts != nullptr) {
    http.allowed_hosts = split_list(raw.allow_hosts);
    if (http.allowed_hosts.empty()) return std::string("-o allow_hosts=") + raw.allow_hosts + ": no host named";
  }
  if (raw.allow_local != nullptr) {
    for (const std::string& directory : split_list(raw.allow_local)) {
      char real[PATH_MAX];
      struct stat st {};
      if (::realpath(directory.c_str(), real) == nullptr || ::stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return "-o allow_local=" + directory + ": not a directory";
      }
      out.local_roots.emplace_back(real);
    }
  }
  return std::nullopt;
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

std::optional<std::string> read_config_file(RawOptions& raw, std::vector<std::string>& storage) {
  if (raw.config == nullptr) return std::nullopt;
  std::ifstream file(raw.config);
  if (!file) return std::string(raw.config) + ": cannot read the file";
  const std::pair<const char*, char**> strings[] = {
      {"target", &raw.target},         {"cache_size", &raw.cache_size},
      {"block_size", &raw.block_size}, {"max_gap", &raw.max_gap},
      {"max_block", &raw.max_block},   {"prefetch", &raw.prefetch},
      {"max_connections", &raw.max_connections}, {"retries", &raw.retries},
      {"retry_delay", &raw.retry_delay}, {"timeout", &raw.timeout},
      {"connect_timeout", &raw.connect_timeout}, {"s3_region", &raw.s3_region},
      {"s3_endpoint", &raw.s3_endpoint}, {"log_level", &raw.log_level},
      {"allow_local", &raw.allow_local}, {"allow_hosts", &raw.allow_hosts}, {"max_keys", &raw.max_keys},
  };
  const std::pair<const char*, int*> flags[] = {
      {"insecure", &raw.insecure}, {"s3_path_style", &raw.s3_path_style}, {"anon", &raw.anon},
      {"no_zmetadata", &raw.no_zmetadata}, {"watch", &raw.watch}, {"no_stats", &raw.no_stats},
      {"allow_link_local", &raw.allow_link_local}};
  // Collected first, so that the strings' storage no longer moves when fields point into it.
  std::vector<std::pair<char**, std::string>> assignments;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    const std::size_t equals = line.find('=');
    const std::string name = line.substr(0, std::min(equals, line.find_first_of(" \t")));
    const auto where = [&] { return std::string(raw.config) + ":" + std::to_string(number) + ": "; };
    if (equals == std::string::npos) {
      const auto flag = std::find_if(std::begin(flags), std::end(flags), [&](const auto& f) { return name == f.first; });
      if (flag == std::end(flags)) return where() + "unknown option \"" + name + "\" (or a missing '=')";
      *flag->second = 1;
      continue;
    }
    const auto option = std::find_if(std::begin(strings), std::end(strings), [&](const auto& s) { return name == s.first; });
    if (option == std::end(strings)) return where() + "unknown option \"" + name + "\"";
    std::string value = line.substr(equals + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (*option->second == nullptr) assignments.emplace_back(option->second, std::move(value));
  }
  storage.reserve(storage.size() + assignments.size());
  for (auto& [field, value] : assignments) {
    storage.push_back(std::move(value));
    *field = storage.back().data();
  }
  return std::nullopt;
}

}  // namespace kerchunkfs::daemon
