// kerchunkfs REFS MOUNTPOINT [-o opts] [-f] [-d]: mount a reference set as a read-only directory tree.
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon/filesystem.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/service_notify.h"
#include "daemon/target_check.h"
#include "fetch/http_source.h"
#include "fetch/source_registry.h"
#include "refstore/refstore.h"

namespace {

using kerchunkfs::daemon::Filesystem;
using kerchunkfs::daemon::FilesystemOptions;
using kerchunkfs::daemon::Logger;
using kerchunkfs::daemon::RawOptions;

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

#define KERCHUNKFS_OPTION(name, field) {name "=%s", offsetof(RawOptions, field), 0}
constexpr fuse_opt kOptionSpec[] = {
    KERCHUNKFS_OPTION("target", target),
    KERCHUNKFS_OPTION("cache_size", cache_size),
    KERCHUNKFS_OPTION("block_size", block_size),
    KERCHUNKFS_OPTION("max_gap", max_gap),
    KERCHUNKFS_OPTION("max_block", max_block),
    KERCHUNKFS_OPTION("prefetch", prefetch),
    KERCHUNKFS_OPTION("max_connections", max_connections),
    KERCHUNKFS_OPTION("retries", retries),
    KERCHUNKFS_OPTION("retry_delay", retry_delay),
    KERCHUNKFS_OPTION("timeout", timeout),
    KERCHUNKFS_OPTION("connect_timeout", connect_timeout),
    KERCHUNKFS_OPTION("s3_region", s3_region),
    KERCHUNKFS_OPTION("s3_endpoint", s3_endpoint),
    KERCHUNKFS_OPTION("log_level", log_level),
    KERCHUNKFS_OPTION("config", config),
    KERCHUNKFS_OPTION("allow_local", allow_local),
    KERCHUNKFS_OPTION("allow_hosts", allow_hosts),
    KERCHUNKFS_OPTION("max_keys", max_keys),
    {"allow_link_local", offsetof(RawOptions, allow_link_local), 1},
    {"insecure", offsetof(RawOptions, insecure), 1},
    {"s3_path_style", offsetof(RawOptions, s3_path_style), 1},
    {"anon", offsetof(RawOptions, anon), 1},
    {"no_zmetadata", offsetof(RawOptions, no_zmetadata), 1},
    {"watch", offsetof(RawOptions, watch), 1},
    {"no_stats", offsetof(RawOptions, no_stats), 1},
    FUSE_OPT_END,
};
#undef KERCHUNKFS_OPTION

// Takes the first non-option argument as the reference file and leaves the rest (the mount
// point) to libfuse's own command-line parser.
int take_refs_argument(void* data, const char* arg, int key, fuse_args*) {
  auto* options = static_cast<RawOptions*>(data);
  if (key == FUSE_OPT_KEY_NONOPT && options->refs == nullptr) {
    options->refs = strdup(arg);
    return 0;
  }
  return 1;
}

void print_usage(const char* program) {
  std::printf(
      "usage: %s REFS MOUNTPOINT [options]\n"
      "\n"
      "Mount the reference set REFS (kerchunk/fsspec JSON, spec version 0 or 1) as a read-only\n"
      "directory tree at MOUNTPOINT, so any zarr reader can open it.\n"
      "\n"
      "kerchunkfs options:\n"
      "    -o target=URL          target of references whose URL is null\n"
      "    -o cache_size=SIZE     block cache for remote data (default: 1/8 of memory, 64M..4G)\n"
      "    -o block_size=SIZE     unit for whole files and ranges larger than it (default 4M)\n"
      "    -o prefetch=SIZE       read ahead up to this much per chunk read (default 64M; 0: off)\n"
      "    -o max_gap=SIZE        join prefetched ranges this close (default 64K) ...\n"
      "    -o max_block=SIZE      ... into requests up to this size (default 16M)\n"
      "    -o max_connections=N   open HTTP connections at most (default 64)\n"
      "    -o retries=N           retries of a failed request (default 5)\n"
      "    -o retry_delay=MS      first retry delay, doubled each time (default 200)\n"
      "    -o timeout=SECONDS     one request attempt at most (default 120)\n"
      "    -o connect_timeout=SECONDS  (default 10)\n"
      "    -o insecure            do not verify TLS certificates\n"
      "    -o s3_region=REGION    region of s3:// URLs (default: AWS_REGION, profile, us-east-1)\n"
      "    -o s3_endpoint=URL     S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS)\n"
      "    -o s3_path_style       path-style S3 URLs (always with a custom endpoint)\n"
      "    -o anon                unsigned S3 requests (public buckets)\n"
      "    -o watch               load the reference file again when it changes (as on SIGHUP)\n"
      "    -o log_level=LEVEL     info (default) or error: the least severe messages logged\n"
      "    -o no_stats            no /.kerchunkfs/stats (counters, Prometheus text format)\n"
      "    -o no_zmetadata        offer no synthesized /.zmetadata (consolidated metadata)\n"
      "    -o config=FILE         further options from FILE, one name=value a line\n"
      "\n"
      "What a reference set may point at (sets come from anywhere; mounts may be shared):\n"
      "    -o allow_local=DIR[:DIR...]  local files (paths, file://) are read only under these\n"
      "                           directories, after resolving links (default: none at all)\n"
      "    -o allow_hosts=HOST[:HOST...]  remote hosts allowed, redirects included; *.example.org\n"
      "                           allows its subdomains (default: any)\n"
      "    -o allow_link_local    allow link-local addresses (169.254.0.0/16, fe80::/10, the\n"
      "                           fd00:ec2::254 metadata service) as data targets\n"
      "    -o max_keys=N          refuse sets of more keys, gen entries included (default 100000000)\n"
      "\n",
      program);
}

// libfuse splits -o values at commas, which a backslash escapes.
std::string escape_option_value(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == ',' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

struct ArgsDeleter {
  void operator()(fuse_args* args) const { fuse_opt_free_args(args); }
};
struct SessionDeleter {
  void operator()(fuse_session* session) const { fuse_session_destroy(session); }
};
struct LoopConfigDeleter {
  void operator()(fuse_loop_config* config) const { fuse_loop_cfg_destroy(config); }
};

// Installed signal handlers (SIGINT, SIGTERM, SIGHUP end the session loop) for a scope.
class SignalHandlers {
 public:
  explicit SignalHandlers(fuse_session* session) : session_(session), ok_(fuse_set_signal_handlers(session) == 0) {}
  SignalHandlers(const SignalHandlers&) = delete;
  SignalHandlers& operator=(const SignalHandlers&) = delete;
  ~SignalHandlers() {
    if (ok_) fuse_remove_signal_handlers(session_);
  }
  bool ok() const { return ok_; }

 private:
  fuse_session* session_;
  bool ok_;
};

// Mounted for a scope: the session loop ends on unmount or on a signal, then this unmounts.
class Mount {
 public:
  Mount(fuse_session* session, const char* mountpoint)
      : session_(session), ok_(fuse_session_mount(session, mountpoint) == 0) {}
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount() {
    if (ok_) fuse_session_unmount(session_);
  }
  bool ok() const { return ok_; }

 private:
  fuse_session* session_;
  bool ok_;
};

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Loads the reference file again and swaps it in; on any problem the set being served stays.
void reload(const std::string& refs_path, const kerchunkfs::refstore::LoadOptions& load_options,
            const kerchunkfs::fetch::SourceRegistry& sources, const FilesystemOptions& options,
            Filesystem& filesystem, fuse_session* session,
            const Logger& log, const kerchunkfs::daemon::ServiceNotifier& notifier) {
  notifier.send("RELOADING=1");
  struct stat refs_stat {};
  try {
    if (::stat(refs_path.c_str(), &refs_stat) != 0) {
      throw kerchunkfs::refstore::LoadError(refs_path + ": " + std::strerror(errno));
    }
    auto store = kerchunkfs::refstore::RefStore::load_file(refs_path, load_options);
    if (const auto problem = kerchunkfs::daemon::find_refused_target(store, sources, options)) {
      throw kerchunkfs::refstore::LoadError(refs_path + ": " + *problem);
    }
    const std::size_t nodes = store.node_count();
    filesystem.replace(std::move(store), refs_stat.st_mtim, session);
    log.info("reloaded " + refs_path + " (" + std::to_string(nodes) + " entries)");
  } catch (const kerchunkfs::refstore::LoadError& error) {
    log.error(std::string("reload failed, still serving the previous reference set: ") + error.what());
    filesystem.count_failed_reload();
  }
  notifier.send("READY=1");
}

// Waits for SIGHUP (blocked in every thread, so only this one takes it) and, with -o watch,
// looks at the reference file every second; either way the set is loaded again.
void watch_for_reloads(std::stop_token stop, bool watch, const std::string& refs_path, struct stat last_seen,
                       const std::function<void()>& do_reload) {
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  const timespec second{1, 0};
  while (!stop.stop_requested()) {
    const int signal = sigtimedwait(&hangup, nullptr, &second);
    if (stop.stop_requested()) return;
    bool changed = signal == SIGHUP;
    struct stat now {};
    if (!changed && watch && ::stat(refs_path.c_str(), &now) == 0 && !same_file_state(now, last_seen)) {
      // Wait for the writer to finish: the file must look the same for a moment.
      ::usleep(200 * 1000);
      struct stat settled {};
      changed = ::stat(refs_path.c_str(), &settled) == 0 && same_file_state(now, settled);
    }
    if (changed) {
      ::stat(refs_path.c_str(), &last_seen);
      do_reload();
    }
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  fuse_args raw_args = FUSE_ARGS_INIT(argc, argv);
  const std::unique_ptr<fuse_args, ArgsDeleter> args(&raw_args);
  RawOptions options;
  if (fuse_opt_parse(args.get(), &options, kOptionSpec, take_refs_argument) != 0) return kExitUsage;
  // fuse_opt_parse strdup()s every string it stores.
  std::vector<std::unique_ptr<char, decltype(&std::free)>> option_strings;
  for (char* text : {options.refs, options.target, options.cache_size, options.block_size, options.max_gap,
                     options.max_block, options.prefetch, options.max_connections, options.retries,
                     options.retry_delay, options.timeout, options.connect_timeout, options.s3_region,
                     options.s3_endpoint, options.log_level, options.config, options.allow_local,
                     options.allow_hosts, options.max_keys}) {
    option_strings.emplace_back(text, &std::free);
  }

  fuse_cmdline_opts cmdline{};
  if (fuse_parse_cmdline(args.get(), &cmdline) != 0) return kExitUsage;
  const std::unique_ptr<char, decltype(&std::free)> mountpoint_owner(cmdline.mountpoint, &std::free);
  if (cmdline.show_help) {
    print_usage(argv[0]);
    fuse_cmdline_help();
    fuse_lowlevel_help();
    return 0;
  }
  if (cmdline.show_version) {
    std::printf("kerchunkfs %s\nlibfuse %s\n", KERCHUNKFS_VERSION, fuse_pkgversion());
    return 0;
  }
  if (options.refs == nullptr || cmdline.mountpoint == nullptr) {
    std::fprintf(stderr, "usage: %s REFS MOUNTPOINT [options]  (see --help)\n", argv[0]);
    return kExitUsage;
  }

  // The daemon changes to "/" when it detaches, so every path is made absolute first.
  char resolved[PATH_MAX];
  if (realpath(options.refs, resolved) == nullptr) {
    std::fprintf(stderr, "kerchunkfs: %s: %s\n", options.refs, std::strerror(errno));
    return kExitFailure;
  }
  const std::string refs_path = resolved;
  struct stat refs_stat {};
  if (stat(refs_path.c_str(), &refs_stat) != 0) {
    std::fprintf(stderr, "kerchunkfs: %s: %s\n", refs_path.c_str(), std::strerror(errno));
    return kExitFailure;
  }

  std::vector<std::string> config_strings;
  if (const auto problem = kerchunkfs::daemon::read_config_file(options, config_strings)) {
    std::fprintf(stderr, "kerchunkfs: %s\n", problem->c_str());
    return kExitUsage;
  }
  FilesystemOptions fs_options;
  if (const auto problem = kerchunkfs::daemon::apply_options(options, fs_options)) {
    std::fprintf(stderr, "kerchunkfs: %s\n", problem->c_str());
    return kExitUsage;
  }
  // Sources start no thread before their first request, so they survive the fork into the
  // background below.
  const auto sources = kerchunkfs::fetch::SourceRegistry::with_default_sources(fs_options.fetch.http, fs_options.s3,
                                                                               fs_options.local_roots);
  kerchunkfs::refstore::LoadOptions load_options;
  load_options.relative_base = directory_of(refs_path);
  load_options.max_keys = fs_options.max_keys;
  if (options.target != nullptr) load_options.default_target = options.target;
  std::optional<kerchunkfs::refstore::RefStore> store;
  try {
    store.emplace(kerchunkfs::refstore::RefStore::load_file(refs_path, load_options));
  } catch (const kerchunkfs::refstore::LoadError& error) {
    std::fprintf(stderr, "kerchunkfs: %s\n", error.what());
    return kExitFailure;
  }
  if (const auto problem = kerchunkfs::daemon::find_refused_target(*store, sources, fs_options)) {
    std::fprintf(stderr, "kerchunkfs: %s: %s\n", refs_path.c_str(), problem->c_str());
    return kExitFailure;
  }

  Logger log;
  if (options.log_level != nullptr && !log.set_level(options.log_level)) {
    std::fprintf(stderr, "kerchunkfs: -o log_level=%s: the levels are info and error\n", options.log_level);
    return kExitUsage;
  }
  fs_options.uid = getuid();
  fs_options.gid = getgid();
  fs_options.mtime = refs_stat.st_mtim;
  Filesystem filesystem(std::move(*store), sources, log, fs_options);
  store.reset();

  // Always read-only, and with the kernel checking permissions (files 0444, directories 0555, owned
  // by whoever mounted): with allow_other, the kernel rather than the daemon decides who may read.
  // The source shows in mount(8) and df(1).
  fuse_opt_add_arg(args.get(), "-oro");
  fuse_opt_add_arg(args.get(), "-odefault_permissions");
  fuse_opt_add_arg(args.get(), "-osubtype=kerchunkfs");
  fuse_opt_add_arg(args.get(), ("-ofsname=" + escape_option_value(refs_path)).c_str());

  const std::unique_ptr<fuse_session, SessionDeleter> session(
      fuse_session_new(args.get(), &Filesystem::operations(), sizeof(fuse_lowlevel_ops), &filesystem));
  if (!session) return kExitFailure;
  const SignalHandlers signals(session.get());
  if (!signals.ok()) return kExitFailure;
  // SIGHUP reloads instead of ending the session: blocked here, before any thread starts, so that
  // every thread inherits the mask and the reload thread alone takes it with sigtimedwait.
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hangup, nullptr);
  const kerchunkfs::daemon::ServiceNotifier notifier;
  // Joined after the unmount below (declared before the mount), which ends a stat still waiting.
  std::jthread readiness;
  const Mount mount(session.get(), cmdline.mountpoint);
  if (!mount.ok()) return kExitFailure;

  if (fuse_daemonize(cmdline.foreground) != 0) return kExitFailure;
  if (!cmdline.foreground) log.use_syslog();
  // Under systemd (Type=notify): READY once the mount answers, which a stat of its root proves.
  std::jthread reloader([&](std::stop_token stop) {
    watch_for_reloads(stop, options.watch != 0, refs_path, refs_stat, [&] {
      reload(refs_path, load_options, sources, fs_options, filesystem, session.get(), log, notifier);
    });
  });
  if (notifier.enabled()) {
    readiness = std::jthread([&notifier, &log, mountpoint = std::string(cmdline.mountpoint), refs_path] {
      struct stat root {};
      if (::stat(mountpoint.c_str(), &root) != 0) return;
      if (!notifier.send("READY=1\nSTATUS=serving " + refs_path + " at " + mountpoint)) {
        log.error("cannot notify the service manager at $NOTIFY_SOCKET");
      }
    });
  }

  int status = 0;
  if (cmdline.singlethread) {
    status = fuse_session_loop(session.get());
  } else {
    const std::unique_ptr<fuse_loop_config, LoopConfigDeleter> config(fuse_loop_cfg_create());
    fuse_loop_cfg_set_clone_fd(config.get(), cmdline.clone_fd);
    // libfuse leaves these at UINT_MAX unless -o max_threads= / max_idle_threads= were given,
    // and 3.14 warns about that value when it is passed on.
    if (cmdline.max_threads != UINT_MAX) fuse_loop_cfg_set_max_threads(config.get(), cmdline.max_threads);
    if (cmdline.max_idle_threads != UINT_MAX) fuse_loop_cfg_set_idle_threads(config.get(), cmdline.max_idle_threads);
    status = fuse_session_loop_mt(session.get(), config.get());
  }
  notifier.send("STOPPING=1");
  reloader.request_stop();
  pthread_kill(reloader.native_handle(), SIGHUP);  // wakes it now rather than within the second
  reloader.join();
  // Requests still under way are answered (cancelled) now, while the session can take the
  // replies: after this no thread touches it, and it can be unmounted and destroyed.
  sources.stop_all();
  if (const auto* web = dynamic_cast<const kerchunkfs::fetch::HttpSource*>(sources.find("http://"))) {
    const auto& counters = web->counters();
    log.info("http: " + std::to_string(counters.requests.load()) + " requests (" +
             std::to_string(counters.retries.load()) + " retries), " + std::to_string(counters.failures.load()) +
             " failed reads, " + std::to_string(counters.bytes.load()) + " bytes received; " +
             filesystem.cache_summary());
  }
  // A signal that ends the loop is a normal way to stop; only a failure of the loop itself is not.
  return status < 0 ? kExitFailure : 0;
}
