// Fetched bytes as they are passed around and cached: a view, and what keeps its memory alive.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace kerchunkfs::fetch {

// Ranges fetched together share their answer's memory, so splitting a coalesced answer into
// ranges copies nothing; `held` says how much memory a view keeps alive (the whole answer, or
// the arena block it was carved from), so that a long-lived one can be copied out instead.
struct Bytes {
  std::shared_ptr<const void> owner;
  std::string_view view;
  std::size_t held = 0;

  static Bytes whole(std::string text) {
    auto kept = std::make_shared<const std::string>(std::move(text));
    return Bytes{kept, *kept, kept->size()};
  }
  // Bytes [from, from + length) of these (clipped to their end), sharing the memory.
  Bytes part(std::size_t from, std::size_t length) const { return Bytes{owner, view.substr(from, length), held}; }
  explicit operator bool() const { return owner != nullptr; }
  std::size_t size() const { return view.size(); }
};

}  // namespace kerchunkfs::fetch
