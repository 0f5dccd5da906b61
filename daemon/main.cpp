// kerchunkfs REFS MOUNTPOINT [-o opts] [-f] [-d]: mount a reference set as a read-only directory tree.
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "daemon/filesystem.h"
#include "daemon/fuse_adapter.h"
#include "daemon/kernel_readahead.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/readahead.h"
#include "daemon/remote_set.h"
#include "daemon/service_notify.h"
#include "daemon/set_formats.h"
#include "daemon/target_check.h"
#include "fetch/source_registry.h"
#include "fetch/url.h"
#include "refstore/refstore.h"

namespace {

using kerchunkfs::common::Error;
using kerchunkfs::common::Result;
using kerchunkfs::daemon::FuseAdapter;
using kerchunkfs::daemon::Logger;
using kerchunkfs::daemon::ReferenceSet;
using kerchunkfs::daemon::SetLoader;
using kerchunkfs::daemon::Settings;
using kerchunkfs::fetch::SourceRegistry;
using kerchunkfs::refstore::RefStore;

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

// The kerchunkfs options and the reference file, taken out of the arguments; what remains (the
// mount point, libfuse's own options) is left for libfuse's parser.
struct Arguments {
  std::string refs;
  kerchunkfs::daemon::GivenOptions given;
};

int take_argument(void* data, const char* arg, int key, fuse_args* /*args*/) {
  auto& arguments = *static_cast<Arguments*>(data);
  if (key >= 0) {  // an entry of the option table
    const auto& option = kerchunkfs::daemon::option_table()[static_cast<std::size_t>(key)];
    const std::string_view text = arg;
    const std::string value = option.value.empty() ? "" : std::string(text.substr(option.name.size() + 1));
    const auto [found, added] = arguments.given.try_emplace(std::string(option.name), value);
    if (!added) found->second = kerchunkfs::daemon::value_given_again(option, found->second, value);
    return 0;
  }
  if (key == FUSE_OPT_KEY_NONOPT && arguments.refs.empty()) {
    arguments.refs = arg;
    return 0;
  }
  return 1;  // libfuse's
}

// libfuse's option specification made from the option table: the key is the entry's index.
std::vector<fuse_opt> option_specification(std::vector<std::string>& templates) {
  const auto table = kerchunkfs::daemon::option_table();
  templates.clear();
  for (const auto& option : table) templates.push_back(std::string(option.name) + (option.value.empty() ? "" : "="));
  std::vector<fuse_opt> spec;
  for (std::size_t i = 0; i < table.size(); ++i) {
    spec.push_back(fuse_opt{templates[i].c_str(), -1U, static_cast<int>(i)});  // -1U: FUSE_OPT_KEY's "no field"
  }
  spec.push_back(fuse_opt{nullptr, 0, 0});
  return spec;
}

void print_usage(const char* program) {
  std::printf(
      "usage: %s REFS MOUNTPOINT [options]\n"
      "\n"
      "Mount the reference set REFS (kerchunk/fsspec JSON, spec version 0 or 1) as a read-only\n"
      "directory tree at MOUNTPOINT, so any zarr reader can open it.\n"
      "\n"
      "kerchunkfs options:\n%s\n",
      program, kerchunkfs::daemon::options_help().c_str());
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

// "loaded REFS (N entries, read by 2 threads, 0.52 s)" (or "reloaded ..."): how long a mount
// took to be ready is what a large set's user asks first.
std::string load_summary(const char* verb, const std::string& refs_path, const RefStore& store,
                         std::chrono::steady_clock::duration took) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f s", std::chrono::duration<double>(took).count());
  const std::size_t threads = store.read_by_threads();
  return verb + (" " + kerchunkfs::fetch::redact_url(refs_path)) + " (" + std::to_string(store.node_count()) +
         " entries, " + (threads > 1 ? "read by " + std::to_string(threads) + " threads, " : "") + seconds + ")";
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

bool same_file_state(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Loads the reference file again and swaps it in; on any problem the set being served stays.
void reload(const std::string& refs_path, const SetLoader& loader, kerchunkfs::daemon::Filesystem& filesystem,
            FuseAdapter& adapter, fuse_session* session, const Logger& log,
            const kerchunkfs::daemon::ServiceNotifier& notifier) {
  notifier.send("RELOADING=1");
  struct stat refs_stat {};
  const bool remote = kerchunkfs::daemon::is_remote_set(refs_path);
  if (remote) refs_stat.st_mtim = timespec{std::time(nullptr), 0};  // when it was fetched
  const auto loading = std::chrono::steady_clock::now();
  Result<ReferenceSet> set = remote || ::stat(refs_path.c_str(), &refs_stat) == 0
                                 ? loader.load(refs_path)
                                 : Error{refs_path + ": " + std::strerror(errno)};
  if (set) {
    const std::string summary =
        load_summary("reloaded", refs_path, set->tree, std::chrono::steady_clock::now() - loading);
    adapter.replace(std::move(*set), refs_stat.st_mtim, session);
    log.info(summary);
  } else {
    log.error("reload failed, still serving the previous reference set: " + set.error().message);
    filesystem.count_failed_reload();
  }
  notifier.send("READY=1");
}

// The version of a set fetched by URL (its ETag or Last-Modified), asked through sources of its
// own as a load does; empty when it cannot be had or the server names none.
std::string remote_set_version(const std::string& url, const Settings& settings, const Logger& log) {
  const auto asking = kerchunkfs::daemon::sources_like_the_mounts(settings);
  auto version = kerchunkfs::daemon::remote_version(kerchunkfs::daemon::set_object(url), asking);
  asking.stop_all();
  if (!version) log.error("watch: " + version.error().message);
  return version ? *version : std::string();
}

// Waits for SIGHUP (blocked in every thread, so only this one takes it) and, with -o watch,
// looks at the reference file every second (a set by URL: at its version every watch_interval);
// either way the set is loaded again.
void watch_for_reloads(const std::stop_token& stop, const Settings& settings, const SetLoader& loader,
                       const std::string& refs_path, struct stat last_seen, const Logger& log,
                       const std::function<void()>& do_reload) {
  const bool watch = settings.watch;
  const bool remote = kerchunkfs::daemon::is_remote_set(refs_path);
  std::string last_version = watch && remote ? remote_set_version(refs_path, settings, log) : std::string();
  if (watch && remote && last_version.empty()) {
    log.error("watch: " + kerchunkfs::fetch::redact_url(refs_path) +
              " names no ETag or Last-Modified: its changes are not seen (reload with SIGHUP)");
  }
  std::time_t next_poll = std::time(nullptr) + settings.watch_interval_s;
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  const timespec second{1, 0};
  // A parquet set changes by its .zmetadata (written last by its writers), not by its folder.
  const std::string watched = remote ? std::string() : loader.watched_file(refs_path);
  ::stat(watched.c_str(), &last_seen);
  while (!stop.stop_requested()) {
    const int signal = sigtimedwait(&hangup, nullptr, &second);
    if (stop.stop_requested()) return;
    bool changed = signal == SIGHUP;
    if (!changed && !last_version.empty() && std::time(nullptr) >= next_poll) {
      next_poll = std::time(nullptr) + settings.watch_interval_s;
      const std::string version = remote_set_version(refs_path, settings, log);
      changed = !version.empty() && version != last_version;
      if (!version.empty()) last_version = version;
    }
    struct stat now {};
    if (!changed && watch && !remote && ::stat(watched.c_str(), &now) == 0 && !same_file_state(now, last_seen)) {
      // Wait for the writer to finish: the file must look the same for a moment.
      ::usleep(200 * 1000);
      struct stat settled {};
      changed = ::stat(watched.c_str(), &settled) == 0 && same_file_state(now, settled);
    }
    if (changed) {
      ::stat(watched.c_str(), &last_seen);
      do_reload();
    }
  }
}

// Runs libfuse's session loop (one thread, or a pool) until unmount or a signal.
int run_loop(fuse_session* session, const fuse_cmdline_opts& cmdline) {
  if (cmdline.singlethread) return fuse_session_loop(session);
  const std::unique_ptr<fuse_loop_config, LoopConfigDeleter> config(fuse_loop_cfg_create());
  fuse_loop_cfg_set_clone_fd(config.get(), cmdline.clone_fd);
  // libfuse leaves these at UINT_MAX unless -o max_threads= / max_idle_threads= were given,
  // and 3.14 warns about that value when it is passed on.
  if (cmdline.max_threads != UINT_MAX) fuse_loop_cfg_set_max_threads(config.get(), cmdline.max_threads);
  if (cmdline.max_idle_threads != UINT_MAX) fuse_loop_cfg_set_idle_threads(config.get(), cmdline.max_idle_threads);
  return fuse_session_loop_mt(session, config.get());
}

// Mounts, serves until unmounted, and tidies up; the exit status.
int serve(fuse_args* args, const fuse_cmdline_opts& cmdline, const std::string& refs_path, const struct stat& refs_stat,
          const Settings& settings, const SourceRegistry& sources, const SetLoader& loader,
          kerchunkfs::daemon::Filesystem& filesystem, Logger& log) {
  // Always read-only, and with the kernel checking permissions (files 0444, directories 0555,
  // owned by whoever mounted): with allow_other, the kernel rather than the daemon decides who may
  // read. The source shows in mount(8) and df(1).
  fuse_opt_add_arg(args, "-oro");
  fuse_opt_add_arg(args, "-odefault_permissions");
  fuse_opt_add_arg(args, "-osubtype=kerchunkfs");
  fuse_opt_add_arg(args, ("-ofsname=" + escape_option_value(kerchunkfs::fetch::redact_url(refs_path))).c_str());

  FuseAdapter adapter(filesystem);
  const std::unique_ptr<fuse_session, SessionDeleter> session(
      fuse_session_new(args, &FuseAdapter::operations(), sizeof(fuse_lowlevel_ops), &adapter));
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
  // Resolved before mounting: afterwards a lookup of the mountpoint waits for this very daemon.
  std::array<char, PATH_MAX> mountpoint{};
  const bool resolved = ::realpath(cmdline.mountpoint, mountpoint.data()) != nullptr;
  const Mount mount(session.get(), cmdline.mountpoint);
  if (!mount.ok()) return kExitFailure;
  // Large sequential reads come as requests of the kernel's readahead window (see
  // kernel_readahead.h); without root it stays at the kernel's default.
  if (const auto raised = resolved ? kerchunkfs::daemon::set_kernel_readahead(
                                         mountpoint.data(), kerchunkfs::daemon::ReadAhead::kKernelReadahead / 1024)
                                   : kerchunkfs::common::Status(Error{"cannot resolve the mountpoint"});
      !raised) {
    log.info("the kernel's readahead stays at its default: " + raised.error().message);
  }

  if (fuse_daemonize(cmdline.foreground) != 0) return kExitFailure;
  if (!cmdline.foreground) log.use_syslog();
  std::jthread reloader([&](const std::stop_token& stop) {
    watch_for_reloads(stop, settings, loader, refs_path, refs_stat, log,
                      [&] { reload(refs_path, loader, filesystem, adapter, session.get(), log, notifier); });
  });
  // Under systemd (Type=notify): READY once the mount answers, which a stat of its root proves.
  if (notifier.enabled()) {
    readiness = std::jthread([&notifier, &log, mountpoint = std::string(cmdline.mountpoint), refs_path] {
      struct stat root {};
      if (::stat(mountpoint.c_str(), &root) != 0) return;
      if (!notifier.send("READY=1\nSTATUS=serving " + refs_path + " at " + mountpoint)) {
        log.error("cannot notify the service manager at $NOTIFY_SOCKET");
      }
    });
  }

  const int status = run_loop(session.get(), cmdline);
  notifier.send("STOPPING=1");
  reloader.request_stop();
  pthread_kill(reloader.native_handle(), SIGHUP);  // wakes it now rather than within the second
  reloader.join();
  // Requests still under way are answered (cancelled) now, while the session can take the
  // replies: after this no thread touches it, and it can be unmounted and destroyed.
  sources.stop_all();
  filesystem.stop_workers();
  log.info(filesystem.summary());
  // A signal that ends the loop is a normal way to stop; only a failure of the loop itself is not.
  return status < 0 ? kExitFailure : 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  // Fetched blocks, responses and decoded chunks are hundreds of KiB to MiBs, allocated and freed
  // at a high rate. By default glibc gives such blocks back to the kernel (mmap, heap trimming)
  // and takes them again, every page returning as a page fault, which on virtual machines costs
  // more than the decoding itself (shuffle + zlib: 126 MB/s a core with the defaults, 272 MB/s
  // with these). Freed memory stays in the heap for the next one, up to the trim threshold.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  fuse_args raw_args = FUSE_ARGS_INIT(argc, argv);
  const std::unique_ptr<fuse_args, ArgsDeleter> args(&raw_args);
  Arguments arguments;
  std::vector<std::string> templates;
  const std::vector<fuse_opt> spec = option_specification(templates);
  if (fuse_opt_parse(args.get(), &arguments, spec.data(), take_argument) != 0) return kExitUsage;

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
  if (arguments.refs.empty() || cmdline.mountpoint == nullptr) {
    std::fprintf(stderr, "usage: %s REFS MOUNTPOINT [options]  (see --help)\n", argv[0]);
    return kExitUsage;
  }

  // The daemon changes to "/" when it detaches, so every path is made absolute first.
  const bool remote = kerchunkfs::daemon::is_remote_set(arguments.refs);
  char resolved[PATH_MAX];
  struct stat refs_stat {};
  if (remote) {
    refs_stat.st_mtim = timespec{std::time(nullptr), 0};  // when it was fetched
  } else if (realpath(arguments.refs.c_str(), resolved) == nullptr || stat(resolved, &refs_stat) != 0) {
    std::fprintf(stderr, "kerchunkfs: %s: %s\n", arguments.refs.c_str(), std::strerror(errno));
    return kExitFailure;
  }
  const std::string refs_path = remote ? arguments.refs : std::string(resolved);

  if (const auto config = arguments.given.find("config"); config != arguments.given.end()) {
    if (const auto read = kerchunkfs::daemon::read_config_file(config->second, arguments.given); !read) {
      std::fprintf(stderr, "kerchunkfs: %s\n", read.error().message.c_str());
      return kExitUsage;
    }
  }
  auto settings = kerchunkfs::daemon::apply_options(arguments.given);
  if (!settings) {
    std::fprintf(stderr, "kerchunkfs: %s\n", settings.error().message.c_str());
    return kExitUsage;
  }
  Logger log;
  if (!settings->log_level.empty()) (void)log.set_level(settings->log_level);  // checked by the option table
  settings->filesystem.uid = getuid();
  settings->filesystem.gid = getgid();
  settings->filesystem.mtime = refs_stat.st_mtim;

  // Sources start no thread before their first request, so they survive the fork into the
  // background in serve().
  const auto sources = kerchunkfs::daemon::sources_like_the_mounts(*settings);
  const auto loading = std::chrono::steady_clock::now();
  const SetLoader loader(*settings, sources);
  Result<ReferenceSet> set = loader.load(refs_path);
  if (!set) {
    std::fprintf(stderr, "kerchunkfs: %s\n", set.error().message.c_str());
    return kExitFailure;
  }
  log.info(load_summary("loaded", refs_path, set->tree, std::chrono::steady_clock::now() - loading));
  kerchunkfs::daemon::Filesystem filesystem(std::move(*set), sources, log, settings->filesystem);
  return serve(args.get(), cmdline, refs_path, refs_stat, *settings, sources, loader, filesystem, log);
}
