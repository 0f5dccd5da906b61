// A Filesystem over a reference set given as JSON, reading through a FakeSource ("http"), with
// calls that wait for their answer (which may come on another thread: the decoded view's workers).
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "daemon/filesystem.h"
#include "fake_source.h"

namespace kerchunkfs::testing {

struct FilesystemFixture {
  // `chunks`: the set's chunk table, for a set whose format keeps chunks apart from its tree.
  explicit FilesystemFixture(const std::string& json,
                             const std::function<void(daemon::FilesystemOptions&)>& configure = {},
                             daemon::ChunkTableFactory chunks = {}) {
    registry.add("http", source);
    daemon::FilesystemOptions options;
    options.fetch.cache_size = 1 << 20;
    options.prefetch_bytes = 0;
    if (configure) configure(options);
    filesystem = std::make_unique<daemon::Filesystem>(
        daemon::ReferenceSet{refstore::RefStore::parse(json, {}).value(), std::move(chunks)}, registry, log, options);
  }
  common::Result<daemon::EntryReply> try_lookup(daemon::Ino parent, std::string_view name) {
    std::promise<common::Result<daemon::EntryReply>> answer;
    filesystem->lookup(parent, name, [&](common::Result<daemon::EntryReply> r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  }
  daemon::EntryReply lookup(daemon::Ino parent, std::string_view name) {
    auto reply = try_lookup(parent, name);
    REQUIRE(reply);
    return *reply;
  }
  daemon::Ino path(std::string_view key) {
    daemon::Ino ino = daemon::kRootIno;
    while (!key.empty()) {
      const auto slash = key.find('/');
      ino = lookup(ino, key.substr(0, slash)).ino;
      REQUIRE(ino != 0);
      key = slash == std::string_view::npos ? std::string_view{} : key.substr(slash + 1);
    }
    return ino;
  }
  // The bytes, or "error N: message".
  std::string read(daemon::Ino ino, std::uint64_t offset = 0, std::size_t size = 1 << 20) {
    std::promise<std::string> answer;
    filesystem->read(ino, offset, size, [&](common::Result<std::span<const char>> bytes) {
      answer.set_value(bytes ? std::string(bytes->data(), bytes->size())
                             : "error " + std::to_string(bytes.error().code) + ": " + bytes.error().message);
    });
    return answer.get_future().get();
  }
  std::vector<std::string> list(daemon::Ino ino, bool plus = false) {
    std::vector<std::string> names;
    REQUIRE(filesystem->readdir(ino, 0, plus, [&](const daemon::DirEntry& e) {
      names.emplace_back(e.name);
      return true;
    }));
    return names;
  }
  std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>();
  fetch::SourceRegistry registry;
  daemon::Logger log;
  std::unique_ptr<daemon::Filesystem> filesystem;
};

}  // namespace kerchunkfs::testing
