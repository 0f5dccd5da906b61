#include "scanner/batch.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>

#include "common/full_io.h"
namespace kerchunkfs::scanner {
namespace {

using Clock = std::chrono::steady_clock;

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
    const auto now = Clock::now();
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
  Clock::time_point start_ = Clock::now(), last_{};
};

// A worker process: it takes file indices from `tasks` and answers each with one byte on
// `results` (1: the job succeeded), until `tasks` is closed.
struct Worker {
  pid_t pid = -1;
  int tasks = -1;    // parent's write end
  int results = -1;  // parent's read end
  std::optional<std::size_t> current;
  Clock::time_point started;
};

Worker spawn(const std::function<bool(std::size_t)>& job, const std::vector<Worker>& others) {
  int to_worker[2], from_worker[2];
  if (::pipe(to_worker) != 0) return {};
  if (::pipe(from_worker) != 0) {
    ::close(to_worker[0]);
    ::close(to_worker[1]);
    return {};
  }
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(to_worker[1]);
    ::close(from_worker[0]);
    for (const Worker& other : others) {  // their pipes are the parent's business
      ::close(other.tasks);
      ::close(other.results);
    }
    std::size_t index = 0;
    while (common::read_full(to_worker[0], &index, sizeof index)) {
      const char ok = job(index) ? 1 : 0;
      std::fflush(nullptr);
      if (!common::write_full(from_worker[1], &ok, 1)) break;
    }
    ::_exit(0);
  }
  ::close(to_worker[0]);
  ::close(from_worker[1]);
  if (pid < 0) {
    ::close(to_worker[1]);
    ::close(from_worker[0]);
    return {};
  }
  return Worker{pid, to_worker[1], from_worker[0], std::nullopt, {}};
}

void retire(Worker& worker) {
  if (worker.tasks >= 0) ::close(worker.tasks);
  if (worker.results >= 0) ::close(worker.results);
  int status = 0;
  while (worker.pid > 0 && ::waitpid(worker.pid, &status, 0) < 0 && errno == EINTR) {
  }
  worker = Worker{};
}

}  // namespace

std::vector<std::size_t> run_batch(const std::vector<std::string>& inputs, const BatchOptions& options,
                                   const std::function<bool(std::size_t index)>& job) {
  ProgressLine progress(inputs.size(), options);
  std::deque<std::size_t> pending;
  for (std::size_t i = 0; i < inputs.size(); ++i) pending.push_back(i);
  const std::size_t count = std::min<std::size_t>(std::max(options.jobs, 1), inputs.size());
  std::vector<Worker> workers;
  std::vector<bool> failed(inputs.size(), false);

  // Hands the worker its next file, or lets it go when none is left.
  const auto assign = [&](Worker& worker) {
    if (pending.empty()) return retire(worker);
    const std::size_t index = pending.front();
    if (!common::write_full(worker.tasks, &index, sizeof index)) return;  // it died: noticed below
    pending.pop_front();
    worker.current = index;
    worker.started = Clock::now();
  };
  const auto replace = [&](Worker& worker) {
    retire(worker);
    if (!pending.empty()) {
      worker = spawn(job, workers);
      if (worker.pid > 0) assign(worker);
    }
  };
  for (std::size_t w = 0; w < count; ++w) {
    workers.push_back(spawn(job, workers));
    if (workers.back().pid < 0) {
      workers.pop_back();
      break;
    }
    assign(workers.back());
  }
  if (workers.empty()) {  // no process to spare: everything here
    for (std::size_t i = 0; i < inputs.size(); ++i, progress.advance()) failed[i] = !job(i);
    pending.clear();
  }

  for (;;) {
    std::vector<pollfd> polled;
    std::vector<Worker*> owners;
    int wait_ms = -1;
    for (Worker& worker : workers) {
      if (worker.pid <= 0 || !worker.current) continue;
      polled.push_back({worker.results, POLLIN, 0});
      owners.push_back(&worker);
      if (options.file_timeout_s > 0) {
        const auto left = std::chrono::seconds(options.file_timeout_s) - (Clock::now() - worker.started);
        const auto ms = std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
        wait_ms = wait_ms < 0 ? static_cast<int>(ms) : std::min(wait_ms, static_cast<int>(ms));
      }
    }
    if (polled.empty()) break;
    if (::poll(polled.data(), polled.size(), wait_ms) < 0 && errno != EINTR) break;
    for (std::size_t k = 0; k < polled.size(); ++k) {
      Worker& worker = *owners[k];
      const std::size_t index = *worker.current;
      if (polled[k].revents != 0) {
        char result = 0;
        if (common::read_full(worker.results, &result, 1)) {
          failed[index] = result != 1;
          worker.current.reset();
          progress.advance();
          assign(worker);
          continue;
        }
        // The worker died on this file: the HDF5 library crashed reading it.
        int status = 0;
        ::waitpid(worker.pid, &status, 0);
        worker.pid = -1;
        std::fprintf(
            stderr,
            "kerchunkfs-scan: %s: reading it crashed (%s): the file is damaged or meets a bug in the HDF5 library\n",
            inputs[index].c_str(), WIFSIGNALED(status) ? ::strsignal(WTERMSIG(status)) : "the process ended");
      } else if (options.file_timeout_s > 0 &&
                 Clock::now() - worker.started >= std::chrono::seconds(options.file_timeout_s)) {
        ::kill(worker.pid, SIGKILL);
        std::fprintf(stderr, "kerchunkfs-scan: %s: given up after %u s: the HDF5 library did not finish reading it\n",
                     inputs[index].c_str(), options.file_timeout_s);
      } else {
        continue;
      }
      failed[index] = true;
      worker.current.reset();
      progress.advance();
      replace(worker);
    }
  }
  for (Worker& worker : workers) retire(worker);
  for (const std::size_t index : pending) failed[index] = true;  // no worker was left to take it
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < failed.size(); ++i) {
    if (failed[i]) indices.push_back(i);
  }
  return indices;
}

}  // namespace kerchunkfs::scanner
