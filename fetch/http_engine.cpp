#include "fetch/http_engine.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "fetch/answer_arena.h"
#include "fetch/bearer_token.h"
#include "fetch/http_response.h"
#include "fetch/origin_gate.h"
#include "fetch/retry_policy.h"
#include "fetch/target_policy.h"
#include "fetch/url.h"

namespace kerchunkfs::fetch {
namespace {

using Clock = std::chrono::steady_clock;

// curl_global_init is not thread-safe and must run before any other curl call; one static
// initialisation per process does that.
struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};
void ensure_curl_global() { static const CurlGlobal global; }

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct ShareDeleter {
  void operator()(CURLSH* share) const { curl_share_cleanup(share); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

std::string_view header_value(std::string_view line, std::size_t name_size) {
  std::string_view value = line.substr(name_size + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  return value;
}

}  // namespace

// One request, through all its attempts.
// The version (ETag or Last-Modified) each URL answered with first, or was pinned to: read on the
// I/O thread, pinned from others.
struct Validators {
  std::mutex mutex;
  std::unordered_map<std::string, std::string> by_url;
};

constexpr unsigned kMaxRedirects = 5;
// Answers from this size on get a large receive buffer (see start()).
constexpr std::uint64_t kLargeAnswer = 1 << 20;

struct Transfer {
  enum class Kind { Read, Size };
  Kind kind = Kind::Read;
  std::string url;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  ReadDone read_done;
  SizeDone size_done;
  Progress progress;                            // set for streaming reads
  std::shared_ptr<const RequestSigner> signer;  // signs every attempt, when set
  std::string opens_origin;                     // the first request to this origin: its end opens it

  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, SlistDeleter> headers;  // this attempt's extra headers (a signature)
  unsigned attempt = 0;
  // Where this attempt goes: `url`, or where a redirect the engine follows itself pointed (it does
  // for requests carrying credential headers, so that they reach the auth hosts alone).
  std::string location;
  unsigned redirects = 0;
  // This attempt's answer: in `answer` when it is handed out as it comes and arena memory could
  // be had, in `body` otherwise. New for every attempt: earlier views stay valid.
  std::shared_ptr<std::string> body;
  std::shared_ptr<AnswerBuffer> answer;
  AnswerArena* arena = nullptr;  // the engine's
  bool streaming = false;        // this attempt's answer is the exact range: hand bytes out as they come
  std::string content_range;
  std::string retry_after;
  std::uint64_t content_length = 0;
  std::uint64_t unranged_limit = 0;  // largest body accepted when the server ignores Range
  bool body_refused = false;         // the write callback stopped the transfer on purpose
  const HttpOptions* options = nullptr;
  std::string refusal;    // why an attempt was refused: a connection not allowed, a changed object (never retried)
  std::string validator;  // this answer's "ETag ..." or "Last-Modified ..."
  bool validator_checked = false;
  // The validator each URL answered with first (the engine's, used on its I/O thread alone).
  Validators* first_validators = nullptr;
  HttpCounters* counters = nullptr;  // the engine's: body bytes are counted as they arrive
  char error[CURL_ERROR_SIZE] = {};

  std::string describe() const {
    if (kind == Kind::Size) return "GET " + redact_url(url) + " (size)";
    return "GET " + redact_url(url) + " bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  }
};

class HttpEngine::Impl {
 public:
  void pin_version(const std::string& url, const std::string& validator) {
    const std::lock_guard lock(first_validators_.mutex);
    first_validators_.by_url.try_emplace(url, validator);
  }

  explicit Impl(HttpOptions options)
      : options_(std::move(options)),
        random_(std::random_device{}()),
        gate_(netrc_present(options_)),
        bearer_token_(options_.bearer_token_file) {
    ensure_curl_global();
    // Cookies live in memory for the engine's life, shared by every request: a login that a
    // redirect chain ends with (Earthdata Login: data host, login host, data host setting a
    // session cookie) is made once, and the requests after it carry the cookie. Every transfer
    // runs on the one I/O thread, so the share needs no locks.
    share_.reset(curl_share_init());
    curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    multi_.reset(curl_multi_init());
    curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options_.max_connections));
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options_.max_connections));
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_connections));
  }

  ~Impl() { stop(); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_.get());
    // The I/O thread answers what is under way (ECANCELED) before it ends.
    std::call_once(started_, [] {});
    if (thread_.joinable()) thread_.join();
  }

  void submit(std::unique_ptr<Transfer> transfer) {
    // The I/O thread starts with the first request, not with the engine: the daemon creates its
    // sources before it forks into the background, and threads do not survive a fork.
    std::call_once(started_, [this] { thread_ = std::thread([this] { run(); }); });
    {
      std::unique_lock lock(mutex_);
      if (stopping_) {
        lock.unlock();
        return cancel(*transfer);
      }
      incoming_.push_back(std::move(transfer));
    }
    curl_multi_wakeup(multi_.get());
  }

  HttpCounters counters;

 private:
  struct Delayed {
    Clock::time_point due;
    Transfer* transfer;
    bool operator>(const Delayed& other) const { return due > other.due; }
  };

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {  // a new response (after a redirect, or 100 Continue)
      t->validator.clear();
      t->content_range.clear();
      t->retry_after.clear();
      t->content_length = 0;
    } else if (header_is(line, "content-range")) {
      t->content_range = header_value(line, 13);
    } else if (header_is(line, "retry-after")) {
      t->retry_after = header_value(line, 11);
    } else if (header_is(line, "content-length")) {
      t->content_length = std::strtoull(std::string(header_value(line, 14)).c_str(), nullptr, 10);
    } else if (header_is(line, "etag")) {
      t->validator = "ETag " + std::string(header_value(line, 4));
    } else if (header_is(line, "last-modified") && !t->validator.starts_with("ETag")) {
      t->validator = "Last-Modified " + std::string(header_value(line, 13));
    }
    return size * count;
  }

  // Every new connection, redirects included, passes here with the address it would go to: the
  // host must be allowed, and a link-local address (a cloud's instance metadata service) is no
  // data target unless allowed. Checking the resolved address also covers names that resolve there.
  static curl_socket_t open_socket(void* data, curlsocktype, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(data);
    char* effective = nullptr;
    curl_easy_getinfo(t->easy.get(), CURLINFO_EFFECTIVE_URL, &effective);
    const std::string host = url_host(effective != nullptr ? effective : t->url);
    if (!host_allowed(host, t->options->allowed_hosts)) {
      t->refusal = "host " + host + " is not among the allowed hosts";
      return CURL_SOCKET_BAD;
    }
    if (!t->options->allow_link_local && is_link_local(&address->addr)) {
      char text[INET6_ADDRSTRLEN] = "?";
      const void* raw =
          address->family == AF_INET6
              ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr)
              : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr);
      ::inet_ntop(address->family, raw, text, sizeof text);
      t->refusal = "refused to connect to " + host + " (" + text +
                   "): a link-local address, such as a cloud's instance metadata service, is no data target "
                   "unless allowed";
      return CURL_SOCKET_BAD;
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }

  // True, with the refusal set, when the object answers with another ETag (or Last-Modified)
  // than it did first: its bytes may no longer be those the references describe, and mixing
  // them with bytes read before would be worse than an error. Checked before any byte is used.
  static bool object_changed(Transfer* t) {
    if (t->validator_checked) return false;
    t->validator_checked = true;
    if (t->validator.empty()) return false;
    const std::lock_guard lock(t->first_validators->mutex);
    const auto [first, inserted] = t->first_validators->by_url.try_emplace(t->url, t->validator);
    if (inserted || first->second == t->validator) return false;
    t->refusal = "the object changed since it was first read (" + first->second + ", now " + t->validator +
                 "): its bytes may no longer be those the references describe";
    return true;
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    long status = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    const std::size_t n = size * count;
    if ((status == 200 || status == 206) && object_changed(t)) {
      t->body_refused = true;
      return 0;
    }
    // A size probe needs only the headers; a ranged read must not grow without bound when the
    // server ignores Range or answers with more than was asked.
    const std::uint64_t limit = t->kind == Transfer::Kind::Size ? (status >= 300 ? 64 * 1024 : 0)
                                : status == 206                 ? t->length
                                : status == 200                 ? t->unranged_limit
                                                                : 64 * 1024;
    if (received(*t) + n > limit) {
      t->body_refused = true;
      return 0;
    }
    if (received(*t) == 0 && status == 206) {
      const auto range = parse_content_range(t->content_range);
      t->streaming = t->progress && range && range->first == t->offset && range->last == t->offset + t->length - 1;
      // Huge-page memory for an answer handed out as it comes (see answer_arena.h), or a string
      // when there is none. Either is reserved whole, so appending never moves bytes that views
      // may already point at; as large as the answer says it is rather than as the request
      // asked, since a read of "the whole object, up to 4 GiB" (a reference set fetched by URL)
      // is answered with the object's size.
      if (t->streaming) t->answer = t->arena->allocate(t->length);
      const std::uint64_t answer_size = range && range->last >= range->first ? range->last - range->first + 1 : 0;
      if (!t->answer) t->body->reserve(std::min<std::uint64_t>(answer_size, t->length));
    }
    // Counted before any byte is handed on, so a reader that has its bytes sees them counted.
    t->counters->bytes.fetch_add(n, std::memory_order_relaxed);
    if (t->answer) {
      (void)t->answer->append(data, n);  // fits: the limit above is its capacity
    } else {
      t->body->append(data, n);
    }
    if (t->streaming) t->progress(so_far(*t));
    return n;
  }

  static std::size_t received(const Transfer& t) { return t.answer ? t.answer->size() : t.body->size(); }

  // The bytes of this attempt's answer so far, sharing its memory.
  static Bytes so_far(const Transfer& t) {
    if (t.answer) return Bytes{t.answer, t.answer->view(), t.answer->held()};
    return Bytes{t.body, *t.body, t.body->capacity()};
  }

  void start(Transfer* t) {
    // Beyond max_connections, transfers wait here in the order they came rather than in libcurl's
    // pending list, which does not keep that order: a serial reader's next chunks, asked for
    // first, then go out first.
    if (active_.size() >= options_.max_connections) {
      queued_.emplace_back(t);
      return;
    }
    if (!t->easy) {
      t->easy.reset(curl_easy_init());
      CURL* easy = t->easy.get();
      curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(easy, CURLOPT_MAXREDIRS, static_cast<long>(kMaxRedirects));
      curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
      curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
      curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
      // Every transfer has its own receive buffer, fresh memory whose pages it faults in as far
      // as its answer reaches: for a chunk-sized answer that cost more than the reads a small
      // buffer adds (on this project's virtual machines a cold serial read of 365 chunk files
      // went from 0.41 to 0.31 s with 16 KiB instead of 256 KiB), while a large range amortises
      // a large buffer over many reads (256 KiB: 15% faster on a 256 MiB sequential read).
      curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, t->length >= kLargeAnswer ? 256L * 1024 : 16L * 1024);
      curl_easy_setopt(easy, CURLOPT_USERAGENT, "kerchunkfs/" KERCHUNKFS_VERSION);
      curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
      curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::on_header);
      curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::on_body);
      curl_easy_setopt(easy, CURLOPT_SHARE, share_.get());
      curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "");  // the cookie engine on, reading no file
      // Credentials from a netrc file go to the host (machine) they name alone, redirects
      // included; curl sends no Authorization or Cookie header a request set to another host.
      curl_easy_setopt(easy, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_OPTIONAL));
      if (!options_.netrc_file.empty()) curl_easy_setopt(easy, CURLOPT_NETRC_FILE, options_.netrc_file.c_str());
      t->options = &options_;
      t->first_validators = &first_validators_;
      t->counters = &counters;
      t->arena = &arena_;
      curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::open_socket);
      curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
      if (options_.insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
      }
      curl_easy_setopt(easy, CURLOPT_RANGE, range_of(*t).c_str());  // curl copies the string
    }
    std::vector<std::string> extra;
    if (t->signer) {
      auto signed_headers = (*t->signer)(t->url, "bytes=" + range_of(*t));
      if (!signed_headers) return refuse(t, signed_headers.error().message);
      extra = std::move(*signed_headers);
    }
    if (t->location.empty()) t->location = t->url;
    curl_easy_setopt(t->easy.get(), CURLOPT_URL, t->location.c_str());
    // Credential headers go to the auth hosts alone. curl keeps custom headers on redirects to
    // other hosts, so with credential headers configured the engine follows redirects itself, one
    // by one (finish()), each hop getting the headers only if its own host is an auth host.
    const bool credentials =
        !options_.auth_hosts.empty() && (!options_.bearer_token_file.empty() || !options_.headers.empty());
    if (credentials && host_allowed(url_host(t->location), options_.auth_hosts)) {
      if (!options_.bearer_token_file.empty()) {
        const std::string* token = bearer_token_.current();
        if (token == nullptr) {
          return refuse(t, "the bearer token file " + options_.bearer_token_file + " cannot be read");
        }
        extra.push_back("Authorization: Bearer " + *token);
      }
      extra.insert(extra.end(), options_.headers.begin(), options_.headers.end());
    }
    curl_easy_setopt(t->easy.get(), CURLOPT_FOLLOWLOCATION, credentials ? 0L : 1L);
    if (!extra.empty() || t->headers) {
      curl_slist* list = nullptr;
      for (const std::string& header : extra) list = curl_slist_append(list, header.c_str());
      t->headers.reset(list);
      curl_easy_setopt(t->easy.get(), CURLOPT_HTTPHEADER, t->headers.get());
    }
    t->unranged_limit = options_.max_unranged_body;
    t->body = std::make_shared<std::string>();
    t->answer.reset();
    t->streaming = false;
    t->content_range.clear();
    t->retry_after.clear();
    t->body_refused = false;
    t->refusal.clear();
    t->validator.clear();
    t->validator_checked = false;
    t->error[0] = '\0';
    ++t->attempt;
    counters.requests.fetch_add(1, std::memory_order_relaxed);
    counters.in_flight.fetch_add(1, std::memory_order_relaxed);
    active_.insert(t);
    curl_multi_add_handle(multi_.get(), t->easy.get());
  }

  static std::string range_of(const Transfer& t) {
    return t.kind == Transfer::Kind::Size ? "0-0"
                                          : std::to_string(t.offset) + "-" + std::to_string(t.offset + t.length - 1);
  }

  // A request that cannot be sent (no credentials to sign it): it fails without an attempt.
  void refuse(Transfer* t, const std::string& why) {
    std::unique_ptr<Transfer> owned(t);
    if (!t->opens_origin.empty()) open_origin(std::exchange(t->opens_origin, {}));
    counters.failures.fetch_add(1, std::memory_order_relaxed);
    const common::Error error{t->describe() + ": " + why, EIO};
    if (t->kind == Transfer::Kind::Size) return t->size_done(error);
    t->read_done(error);
  }

  // An error answer names its S3/GCS error code (<Code>NoSuchKey</Code>) when the body has one.
  static std::string status_problem(long status, const std::string& body) {
    std::string problem = "HTTP " + std::to_string(status);
    const std::size_t open = body.find("<Code>");
    const std::size_t close = body.find("</Code>", open == std::string::npos ? 0 : open);
    if (open != std::string::npos && close != std::string::npos && close - open - 6 <= 64) {
      problem += " " + body.substr(open + 6, close - open - 6);
    }
    return problem;
  }

  // The outcome of one attempt, a read's or a size probe's alike: done (with data or a final
  // error), or worth retrying. Every failure is counted here, once, by kind.
  void finish(Transfer* t, CURLcode code) {
    curl_multi_remove_handle(multi_.get(), t->easy.get());
    active_.erase(t);
    std::unique_ptr<Transfer> owned(t);
    if (!t->opens_origin.empty()) open_origin(std::exchange(t->opens_origin, {}));
    long status = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    counters.in_flight.fetch_sub(1, std::memory_order_relaxed);
    curl_off_t elapsed_us = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_TOTAL_TIME_T, &elapsed_us);
    counters.record_latency(static_cast<std::uint64_t>(std::max<curl_off_t>(elapsed_us, 0)));

    if (code == CURLE_OK && status >= 300 && status < 400 && follow_redirect(*t)) {
      start(owned.release());
      return;
    }
    std::string problem;
    bool retry = false;
    if (code == CURLE_OK && (status == 200 || status == 206)) object_changed(t);  // an answer without body bytes
    if (!t->refusal.empty()) {
      problem = t->refusal;
    } else if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && t->body_refused)) {
      problem = std::string("network error: ") + (t->error[0] ? t->error : curl_easy_strerror(code));
      retry = true;
      counters.network_errors.fetch_add(1, std::memory_order_relaxed);
    } else if (t->kind == Transfer::Kind::Size) {
      if (const auto size = object_size(*t, status)) return t->size_done(*size);
      problem = status == 206 ? "206 without the object's size in Content-Range \"" + t->content_range + "\""
                              : status_problem(status, *t->body);
      retry = is_retryable_status(status);
      (status >= 200 && status < 300 ? counters.answer_errors : counters.status_errors)
          .fetch_add(1, std::memory_order_relaxed);
    } else if (t->body_refused) {
      counters.answer_errors.fetch_add(1, std::memory_order_relaxed);
      problem = status != 200 ? "HTTP " + std::to_string(status) + " with a longer body than the range"
                : options_.max_unranged_body == 0 ? std::string(
                                                        "the server does not serve byte ranges (it ignored Range "
                                                        "and answered 200 with the whole object)")
                                                  : "the server ignored Range and the object is larger than the " +
                                                        std::to_string(options_.max_unranged_body) + "-byte limit";
      retry = status != 200;
    } else {
      const RangeVerdict verdict = judge_range_answer({status, t->content_range, received(*t)}, t->offset, t->length);
      if (verdict.ok) {
        deliver(*t, verdict);
        return;
      }
      problem = status == 206 || status == 200 ? verdict.problem : status_problem(status, *t->body);
      retry = verdict.retry;
      (status >= 200 && status < 300 ? counters.answer_errors : counters.status_errors)
          .fetch_add(1, std::memory_order_relaxed);
    }
    if (retry && t->attempt <= options_.retries) return schedule_retry(std::move(owned), status);
    counters.failures.fetch_add(1, std::memory_order_relaxed);
    const common::Error error{t->describe() + ": " + problem + " (after " + std::to_string(t->attempt) + " attempt" +
                                  (t->attempt == 1 ? "" : "s") + ")",
                              failure_code(code, status)};
    if (t->kind == Transfer::Kind::Size) return t->size_done(error);
    t->read_done(error);
  }

  // What a size probe's answer (to "Range: bytes=0-0") says the object's size is, if it says.
  static std::optional<std::uint64_t> object_size(const Transfer& t, long status) {
    if (status == 206) {
      const auto range = parse_content_range(t.content_range);
      if (range && range->total) return *range->total;
      return std::nullopt;
    }
    if (status == 200) return t.content_length;
    if (status == 416) return parse_unsatisfied_total(t.content_range).value_or(0);
    return std::nullopt;
  }

  // The errno of a failed request: ENOENT where the server says the object does not exist (a
  // format may take that to mean something, as a parquet set's missing refs file means missing
  // chunks), EIO otherwise.
  static int failure_code(CURLcode code, long status) { return code == CURLE_OK && status == 404 ? ENOENT : EIO; }

  // A verified answer: the wanted bytes go out through progress (streaming reads) or in the result.
  static void deliver(Transfer& t, const RangeVerdict& verdict) {
    std::string& body = *t.body;
    if (!t.progress) {
      ReadAnswer result;
      result.bytes = verdict.body_offset == 0 && verdict.length == body.size()
                         ? std::move(body)
                         : body.substr(verdict.body_offset, verdict.length);
      result.object_size = verdict.object_size;
      result.validator = t.validator;
      return t.read_done(std::move(result));
    }
    if (t.streaming) {
      t.progress(so_far(t));
    } else {
      // Judged only now (a 200, or an object that ended early): the wanted bytes at once.
      t.progress(Bytes::whole(body.substr(verdict.body_offset, verdict.length)));
    }
    ReadAnswer result;
    result.object_size = verdict.object_size;
    result.validator = t.validator;
    t.read_done(std::move(result));
  }

  // A redirect curl left to the engine (see start()): true, with the transfer pointed at its
  // target, unless there is none or too many were followed.
  static bool follow_redirect(Transfer& t) {
    char* target = nullptr;
    curl_easy_getinfo(t.easy.get(), CURLINFO_REDIRECT_URL, &target);
    if (target == nullptr || t.redirects >= kMaxRedirects) return false;
    t.location = target;
    ++t.redirects;
    --t.attempt;  // a hop, not another attempt
    return true;
  }

  void schedule_retry(std::unique_ptr<Transfer> t, long status) {
    t->location = t->url;  // a retry starts from the URL itself, as curl's own following does
    t->redirects = 0;
    counters.retries.fetch_add(1, std::memory_order_relaxed);
    const auto delay = retry_delay(RetryPolicy{options_.retry_delay_ms, options_.max_retry_delay_ms}, t->attempt,
                                   status, t->retry_after, random_);
    delayed_.push(Delayed{Clock::now() + delay, t.release()});
  }

  void run() {
    std::vector<std::unique_ptr<Transfer>> arrived;
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
        for (auto& t : incoming_) arrived.push_back(std::move(t));
        incoming_.clear();
      }
      for (auto& t : arrived) admit(std::move(t));
      arrived.clear();
      const auto now = Clock::now();
      while (!delayed_.empty() && delayed_.top().due <= now) {
        Transfer* t = delayed_.top().transfer;
        delayed_.pop();
        start(t);
      }

      int running = 0;
      curl_multi_perform(multi_.get(), &running);
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
        if (message->msg != CURLMSG_DONE) continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &t);
        finish(t, message->data.result);
      }
      while (!queued_.empty() && active_.size() < options_.max_connections) {
        Transfer* next = queued_.front().release();
        queued_.pop_front();
        start(next);
      }

      int wait_ms = 1000;
      if (!delayed_.empty()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(delayed_.top().due - Clock::now());
        wait_ms = static_cast<int>(std::clamp<long>(until.count(), 0, 1000));
      }
      curl_multi_poll(multi_.get(), nullptr, 0, wait_ms, nullptr);
    }
    cancel_all();
  }

  void admit(std::unique_ptr<Transfer> t) {
    gate_.admit(std::move(t), [this](std::unique_ptr<Transfer> admitted) { start(admitted.release()); });
  }

  void open_origin(const std::string& origin) {
    gate_.open(origin, [this](std::unique_ptr<Transfer> admitted) { start(admitted.release()); });
  }

  void cancel_all() {
    std::vector<std::unique_ptr<Transfer>> all = gate_.take_waiting();
    for (Transfer* t : active_) {
      curl_multi_remove_handle(multi_.get(), t->easy.get());
      all.emplace_back(t);
    }
    active_.clear();
    for (auto& t : queued_) all.push_back(std::move(t));
    queued_.clear();
    while (!delayed_.empty()) {
      all.emplace_back(delayed_.top().transfer);
      delayed_.pop();
    }
    {
      std::lock_guard lock(mutex_);
      for (auto& t : incoming_) all.push_back(std::move(t));
      incoming_.clear();
    }
    for (auto& t : all) cancel(*t);
  }

  static void cancel(Transfer& t) {
    if (t.kind == Transfer::Kind::Size) {
      t.size_done(common::Error{t.describe() + ": cancelled at shutdown", ECANCELED});
    } else {
      t.read_done(common::Error{t.describe() + ": cancelled at shutdown", ECANCELED});
    }
  }

  HttpOptions options_;
  AnswerArena arena_;                            // for answers handed out as they come; outlived by its buffers' memory
  std::unique_ptr<CURLSH, ShareDeleter> share_;  // before the handles using it: it goes after them
  std::unique_ptr<CURLM, MultiDeleter> multi_;
  std::mt19937_64 random_;  // used on the I/O thread only
  std::mutex mutex_;
  std::deque<std::unique_ptr<Transfer>> incoming_;
  bool stopping_ = false;
  std::unordered_set<Transfer*> active_;          // owned while attached to the multi handle
  std::deque<std::unique_ptr<Transfer>> queued_;  // started, waiting for one of max_connections
  OriginGate<Transfer> gate_;                     // a login's first request to an origin goes alone
  BearerToken bearer_token_;                      // asked on the I/O thread only
  Validators first_validators_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;  // owned while waiting to retry
  std::once_flag started_;
  std::thread thread_;
};

HttpEngine::HttpEngine(HttpOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpEngine::~HttpEngine() = default;

void HttpEngine::read(HttpRequest request, ReadDone done) {
  if (request.length == 0) return done(ReadAnswer{});
  auto t = std::make_unique<Transfer>();
  t->url = std::move(request.url);
  t->offset = request.offset;
  t->length = request.length;
  t->progress = std::move(request.progress);
  t->signer = std::move(request.signer);
  t->read_done = std::move(done);
  impl_->submit(std::move(t));
}

void HttpEngine::size(std::string url, std::shared_ptr<const RequestSigner> signer, SizeDone done) {
  auto t = std::make_unique<Transfer>();
  t->kind = Transfer::Kind::Size;
  t->url = std::move(url);
  t->signer = std::move(signer);
  t->size_done = std::move(done);
  impl_->submit(std::move(t));
}

void HttpEngine::stop() { impl_->stop(); }

void HttpEngine::pin_version(const std::string& url, const std::string& validator) {
  impl_->pin_version(url, validator);
}

const HttpCounters& HttpEngine::counters() const { return impl_->counters; }

}  // namespace kerchunkfs::fetch
