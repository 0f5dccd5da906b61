// Helpers shared by the refstore unit tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "refstore/refstore.h"

namespace kerchunkfs::refstore::testing {

// The message a failed load gives, or "<loaded>".
template <class T>
std::string error_message(const common::Result<T>& result) {
  return result ? "<loaded>" : result.error().message;
}

// A set that must load.
inline RefStore loaded(common::Result<RefStore> store) {
  INFO(error_message(store));
  REQUIRE(store);
  return std::move(store).value();
}

inline RefStore parse(std::string_view json, std::string base = "/base") {
  LoadOptions options;
  options.relative_base = std::move(base);
  return loaded(RefStore::parse(json, options));
}

inline Entry entry_at(const RefStore& store, std::string_view key) {
  const auto node = store.find(key);
  INFO("key " << key);
  REQUIRE(node.has_value());
  return store.entry(*node);
}

inline std::string inline_at(const RefStore& store, std::string_view key) {
  const Entry entry = entry_at(store, key);
  REQUIRE(entry.kind == EntryKind::Inline);
  return std::string(entry.data);
}

inline void check_range(const RefStore& store, std::string_view key, std::string_view url, std::uint64_t offset,
                        std::uint64_t length) {
  const Entry entry = entry_at(store, key);
  INFO("key " << key);
  REQUIRE(entry.kind == EntryKind::Range);
  CHECK(store.url(entry.url) == url);
  CHECK(entry.offset == offset);
  CHECK(entry.length == length);
}

}  // namespace kerchunkfs::refstore::testing
