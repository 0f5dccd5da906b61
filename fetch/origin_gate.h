// Login admission for the HTTP engine (private to fetch/): where a netrc file could supply a
// login, the first request to an origin (scheme, host and port) goes alone and the others wait for
// its first attempt to end, so that a login its redirects end in (a session cookie, shared) is made
// once and the requests after it carry the cookie instead of each logging in. Without netrc
// credentials no login can happen, and holding the others would only cost a round trip.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fetch/http_engine.h"

namespace kerchunkfs::fetch {

// Whether a netrc file can supply logins: -o netrc, or ~/.netrc.
bool netrc_present(const HttpOptions& options);
// "https://host:port" of a URL.
std::string origin_of(const std::string& url);

// `Request` has `url` and `opens_origin` (set here on an origin's first request, which opens the
// origin when its attempt ends). Used on the engine's I/O thread alone.
template <class Request>
class OriginGate {
 public:
  explicit OriginGate(bool may_log_in) : may_log_in_(may_log_in) {}

  // Starts `request` now (through `start`), or holds it until its origin opens.
  template <class Start>
  void admit(std::unique_ptr<Request> request, const Start& start) {
    if (!may_log_in_) return start(std::move(request));
    const std::string origin = origin_of(request->url);
    const auto [found, first] = origins_.try_emplace(origin);
    if (found->second.open) return start(std::move(request));
    if (!first) {
      found->second.waiting.push_back(std::move(request));
      return;
    }
    request->opens_origin = origin;
    start(std::move(request));
  }

  // The origin's first attempt ended: the requests held for it start.
  template <class Start>
  void open(const std::string& origin, const Start& start) {
    State& opened = origins_[origin];
    opened.open = true;
    for (auto& request : std::exchange(opened.waiting, {})) start(std::move(request));
  }

  // Every request still held, for cancelling at shutdown.
  std::vector<std::unique_ptr<Request>> take_waiting() {
    std::vector<std::unique_ptr<Request>> all;
    for (auto& [origin, state] : origins_) {
      for (auto& request : state.waiting) all.push_back(std::move(request));
      state.waiting.clear();
    }
    return all;
  }

 private:
  struct State {
    bool open = false;
    std::vector<std::unique_ptr<Request>> waiting;
  };
  bool may_log_in_;
  std::unordered_map<std::string, State> origins_;  // origins seen, and requests waiting on them
};

}  // namespace kerchunkfs::fetch
