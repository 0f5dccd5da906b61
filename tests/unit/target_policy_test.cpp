#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fetch/target_policy.h"
#include "fetch/url.h"

using namespace kerchunkfs::fetch;

TEST_CASE("local paths are allowed only inside the allowed directories") {
  const std::vector<std::string> roots{"/data/archive", "/srv/"};
  CHECK(path_under("/data/archive/x.nc", roots));
  CHECK(path_under("/data/archive", roots));
  CHECK(path_under("/srv/a/b", roots));
  CHECK_FALSE(path_under("/data/archive2/x.nc", roots));  // a prefix of the name is not a parent
  CHECK_FALSE(path_under("/data", roots));
  CHECK_FALSE(path_under("/etc/shadow", roots));
  CHECK_FALSE(path_under("/etc/shadow", {}));
  CHECK(path_under("/etc/shadow", {"/"}));
}

TEST_CASE("hosts match by name, any case, or by a subdomain pattern") {
  const std::vector<std::string> allowed{"data.example.org", "*.bucket.test"};
  CHECK(host_allowed("DATA.example.org", allowed));
  CHECK(host_allowed("a.b.bucket.test", allowed));
  CHECK_FALSE(host_allowed("bucket.test", allowed));
  CHECK_FALSE(host_allowed("evilbucket.test", allowed));
  CHECK_FALSE(host_allowed("data.example.org.evil", allowed));
  CHECK(host_allowed("anything", {}));
}

TEST_CASE("the host of a URL is found past credentials and before port and path") {
  CHECK(url_host("https://user:pw@Data.example.org:8443/x?y#z") == "Data.example.org");
  CHECK(url_host("http://[fd00:ec2::254]/latest") == "fd00:ec2::254");
  CHECK(url_host("http://169.254.169.254") == "169.254.169.254");
  CHECK(url_host("/local/path").empty());
}

TEST_CASE("link-local and metadata-service addresses are recognised in every spelling") {
  for (const char* host : {"169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"}) {
    CHECK(is_link_local_literal(host));
  }
  for (const char* host : {"127.0.0.1", "10.0.0.1", "169.253.255.255", "::1", "fd00:ec2::253", "metadata.example"}) {
    CHECK_FALSE(is_link_local_literal(host));
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ::inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr);
  CHECK(is_link_local(reinterpret_cast<const sockaddr*>(&v4)));
  ::inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  CHECK_FALSE(is_link_local(reinterpret_cast<const sockaddr*>(&v4)));
}
