#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "sources/remote_file.h"
#include "sources/scan_result.h"

using namespace kerchunkfs;
using sources::ByteRange;
using sources::RemoteFile;
using sources::RemoteReadOptions;

namespace {

// An object in memory, answering as an HTTP server does (the object's size with every answer,
// short answers at its end), counting and logging requests; it can fail reads from some offset on.
class MemorySource final : public fetch::ByteSource {
 public:
  explicit MemorySource(std::string object) : object_(std::move(object)) {}

  void read(const std::string& url, std::uint64_t offset, std::size_t length, fetch::ReadDone done) override {
    requests.push_back({offset, length});
    if (offset + length > fail_from) return done(common::Error{"GET " + url + ": HTTP 503"});
    fetch::ReadAnswer answer;
    answer.bytes = offset < object_.size() ? object_.substr(offset, length) : "";
    if (tell_size) answer.object_size = object_.size();
    done(std::move(answer));
  }
  void size(const std::string&, fetch::SizeDone done) override {
    ++size_requests;
    done(std::uint64_t{object_.size()});
  }

  std::vector<ByteRange> requests;
  std::size_t size_requests = 0;
  std::uint64_t fail_from = UINT64_MAX;
  bool tell_size = true;

 private:
  std::string object_;
};

std::string random_bytes(std::size_t size) {
  std::mt19937 random(7);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

std::string read(RemoteFile& file, std::uint64_t offset, std::size_t length) {
  std::string out(length, '\0');
  REQUIRE(file.read(offset, length, out.data()));
  return out;
}

}  // namespace

TEST_CASE("the first request brings the object's size and its first blocks") {
  const std::string object = random_bytes(5000);
  MemorySource source(object);
  RemoteFile file("https://host/f.h5", source, RemoteReadOptions{1000, 2500, 1 << 20});
  CHECK(file.size() == 5000);
  REQUIRE(source.requests.size() == 1);
  CHECK(source.requests[0].offset == 0);
  CHECK(source.requests[0].length == 3000);  // rounded up to whole blocks
  CHECK(source.size_requests == 0);
  CHECK(read(file, 10, 2990) == object.substr(10, 2990));
  CHECK(source.requests.size() == 1);  // served from the cache
}

TEST_CASE("a miss fetches the run of blocks it touches in one request, and only once") {
  const std::string object = random_bytes(10000);
  MemorySource source(object);
  RemoteFile file("u", source, RemoteReadOptions{1000, 1000, 1 << 20});
  CHECK(read(file, 4500, 2000) == object.substr(4500, 2000));  // blocks 4, 5 and 6
  REQUIRE(source.requests.size() == 2);
  CHECK(source.requests[1].offset == 4000);
  CHECK(source.requests[1].length == 3000);
  CHECK(read(file, 5000, 10) == object.substr(5000, 10));
  CHECK(read(file, 9990, 10) == object.substr(9990, 10));  // the last, short block
  CHECK(source.requests.size() == 3);
  CHECK(source.requests[2].length == 1000);
  std::string past(20, '\0');
  CHECK_FALSE(file.read(9990, 20, past.data()));  // past the end: never zeros passed off as data
}

TEST_CASE("prefetching asks for every missing run at once, joining adjacent blocks") {
  const std::string object = random_bytes(20000);
  MemorySource source(object);
  RemoteFile file("u", source, RemoteReadOptions{1000, 1000, 1 << 20});
  const std::vector<ByteRange> ranges{{500, 100}, {3000, 1500}, {4500, 100}, {12000, 10}, {19999, 100}};
  file.prefetch(ranges);
  // Block 0 is cached already; 3-4 is one run; 12 and 19 are runs of their own.
  REQUIRE(source.requests.size() == 4);
  CHECK(source.requests[1].offset == 3000);
  CHECK(source.requests[1].length == 2000);
  CHECK(source.requests[3].offset == 19000);
  CHECK(source.requests[3].length == 1000);
  CHECK(read(file, 3000, 2000) == object.substr(3000, 2000));
  CHECK(read(file, 19000, 1000) == object.substr(19000, 1000));
  CHECK(source.requests.size() == 4);
  CHECK(file.requests() == 4);
}

TEST_CASE("a read larger than the whole cache is still served whole and right") {
  const std::string object = random_bytes(50000);
  MemorySource source(object);
  RemoteFile file("u", source, RemoteReadOptions{1000, 1000, 4000});
  CHECK(read(file, 100, 45000) == object.substr(100, 45000));
}

TEST_CASE("without a block size every read is a request of exactly its bytes") {
  const std::string object = random_bytes(3000);
  MemorySource source(object);
  RemoteFile file("u", source, RemoteReadOptions{0, 1 << 20, 1 << 20});
  CHECK(read(file, 100, 8) == object.substr(100, 8));
  CHECK(read(file, 100, 8) == object.substr(100, 8));
  REQUIRE(source.requests.size() == 3);
  CHECK(source.requests[2].offset == 100);
  CHECK(source.requests[2].length == 8);
}

TEST_CASE("without a size in the answer, the size is asked for once") {
  MemorySource source(random_bytes(5000));
  source.tell_size = false;
  RemoteFile file("u", source, RemoteReadOptions{1000, 1000, 1 << 20});
  CHECK(file.size() == 5000);
  CHECK(source.size_requests == 1);
  MemorySource small(random_bytes(300));
  small.tell_size = false;
  RemoteFile short_file("u", small, RemoteReadOptions{1000, 1000, 1 << 20});
  CHECK(short_file.size() == 300);  // it ended inside the first answer
  CHECK(small.size_requests == 0);
}

TEST_CASE("failures are errors naming the URL, never bytes") {
  MemorySource source(random_bytes(10000));
  source.fail_from = 0;
  const RemoteFile failed("https://host/x.nc", source, RemoteReadOptions{1000, 1000, 1 << 20});
  CHECK_THAT(failed.failure(), Catch::Contains("https://host/x.nc") && Catch::Contains("503"));
  MemorySource later(random_bytes(10000));
  later.fail_from = 6000;
  RemoteFile file("https://host/y.nc", later, RemoteReadOptions{1000, 1000, 1 << 20});
  std::string out(100, '\0');
  CHECK_FALSE(file.read(5950, 100, out.data()));
  CHECK_THAT(file.failure(), Catch::Contains("https://host/y.nc"));
  CHECK_FALSE(file.read(5950, 100, out.data()));  // the failure is remembered, not retried at once
}
