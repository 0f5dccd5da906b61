#include "scanner/batch.h"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace kerchunkfs::scanner {
namespace {

class ProgressLine {
 public:
  ProgressLine(std::size_t total, const BatchOptions& options)
      : total_(total), what_(options.what), shown_(options.progress && ::isatty(STDERR_FILENO)) {}
  ~ProgressLine() {
    if (shown_ && drawn_) std::fputc('\n', stderr);
  }
  void advance() {
    ++done_;
    if (!shown_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done_ != total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? done_ / seconds : 0;
    const double eta = rate > 0 ? (total_ - done_) / rate : 0;
    std::fprintf(stderr, "\r%zu/%zu %s, %.1f/s, ETA %dm%02ds ", done_, total_, what_.c_str(), rate,
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
    drawn_ = true;
  }

 private:
  std::size_t total_, done_ = 0;
  std::string what_;
  bool shown_, drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
};

// Runs job() in a child process and waits for it, at most `timeout_s` seconds (0: no limit).
bool run_isolated(const std::string& input, unsigned timeout_s, const std::function<bool()>& job) {
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return job();  // no process to spare: run it here
  if (child == 0) {
    const bool ok = job();
    std::fflush(nullptr);
    ::_exit(ok ? 0 : 1);
  }
  // A pidfd becomes readable when the child ends: poll() waits for that or the deadline.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  if (pidfd >= 0) {
    pollfd ready{pidfd, POLLIN, 0};
    int polled;
    while ((polled = ::poll(&ready, 1, timeout_s == 0 ? -1 : static_cast<int>(timeout_s * 1000))) < 0 && errno == EINTR) {
    }
    ::close(pidfd);
    if (polled == 0) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      std::fprintf(stderr, "kerchunkfs-scan: %s: given up after %u s: the HDF5 library did not finish reading it\n",
                   input.c_str(), timeout_s);
      return false;
    }
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "kerchunkfs-scan: %s: reading it crashed (%s): the file is damaged or meets a bug in the HDF5 library\n",
                 input.c_str(), ::strsignal(WTERMSIG(status)));
    return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

bool run_batch(const std::vector<std::string>& inputs, const BatchOptions& options,
               const std::function<bool(std::size_t index)>& job) {
  ProgressLine progress(inputs.size(), options);
  const std::size_t workers = std::min<std::size_t>(std::max(options.jobs, 1), inputs.size());
  if (workers <= 1) {
    bool ok = true;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      ok = run_isolated(inputs[i], options.file_timeout_s, [&] { return job(i); }) && ok;
      progress.advance();
    }
    return ok;
  }
  // Each worker writes one byte per finished file into the pipe: the parent counts them.
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return false;
  std::fflush(nullptr);  // nothing buffered is written twice by the children
  std::vector<pid_t> children;
  for (std::size_t w = 0; w < workers; ++w) {
    const pid_t pid = ::fork();
    if (pid < 0) break;
    if (pid == 0) {
      ::close(pipe_fds[0]);
      bool ok = true;
      for (std::size_t i = w; i < inputs.size(); i += workers) {
        ok = run_isolated(inputs[i], options.file_timeout_s, [&] { return job(i); }) && ok;
        const char tick = 1;
        while (::write(pipe_fds[1], &tick, 1) < 0 && errno == EINTR) {
        }
      }
      std::fflush(nullptr);
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  ::close(pipe_fds[1]);
  char ticks[256];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], ticks, sizeof ticks)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (ssize_t i = 0; i < n; ++i) progress.advance();
  }
  ::close(pipe_fds[0]);
  bool ok = children.size() == workers;
  for (const pid_t child : children) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

}  // namespace kerchunkfs::scanner
