// Fetching the documents attestations link to: only from the hosts document_hosts allows,
// never to a loopback, private or link-local address unless its network is listed (checked
// on the address connected to, so a name that resolves there is refused too), no redirect
// followed, and only the class of outcome reported (never what the server answered).
#include "agent/core/documents.h"

#include <gtest/gtest.h>

#include "common/hash.h"
#include "tests/support/fixture_server.h"

namespace opsm::agent {
namespace {

DocumentHosts hosts(std::vector<std::string> patterns) {
  auto h = DocumentHosts::parse(patterns);
  EXPECT_TRUE(h) << h.error().message;
  return h ? *h : DocumentHosts{};
}

DocumentCheck fetch(const std::string& url, const DocumentHosts& allowed) {
  return checkDocument(url, "", {}, allowed, std::chrono::seconds(5));
}

std::string port(const testing::FixtureServer& s) {
  return s.url().substr(s.url().rfind(':') + 1);
}

class DocumentsTest : public ::testing::Test {
 protected:
  testing::FixtureServer server_{[](const HttpRequest& r) {
    if (r.path() == "/secret") {
      return HttpReply{500, "text/plain", "internal token=sk-live-1234 db=10.0.0.5\n"};
    }
    if (r.path() == "/moved") {
      return HttpReply{302, "text/plain", "", {{"Location", "http://169.254.169.254/latest/"}}};
    }
    if (r.path() == "/gone") return HttpReply{404, "text/plain", "no such page: /gone\n"};
    return HttpReply{200, "text/html", "<h1>Crisis organisation</h1>\n"};
  }};
};

TEST_F(DocumentsTest, WithoutDocumentHostsNoUrlIsFetched) {
  auto c = fetch(server_.url() + "/plan", DocumentHosts{});
  EXPECT_EQ(c.status, "not_fetched");
  EXPECT_NE(c.detail.find("not allowed by document_hosts"), std::string::npos) << c.detail;
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(DocumentsTest, ALoopbackAddressIsFetchedOnlyWhenItsNetworkIsListed) {
  // A name that is allowed but resolves to loopback (as a rebinding name would) is refused
  // on the address connected to, before any request is sent.
  auto by_name = fetch("http://localhost:" + port(server_) + "/plan", hosts({"localhost"}));
  EXPECT_EQ(by_name.status, "unreachable");
  EXPECT_NE(by_name.detail.find("address not allowed by document_hosts"), std::string::npos)
      << by_name.detail;
  // A wildcard does not reach it either; nor an address not listed.
  EXPECT_EQ(fetch(server_.url() + "/plan", hosts({"*.example.com", "10.0.0.0/8"})).status,
            "not_fetched");
  EXPECT_TRUE(server_.requests().empty());

  auto listed = fetch(server_.url() + "/plan", hosts({"127.0.0.0/8"}));
  EXPECT_EQ(listed.status, "ok") << listed.detail;
  EXPECT_EQ(listed.sha256, sha256Hex("<h1>Crisis organisation</h1>\n"));
  EXPECT_EQ(listed.detail, "fetched");
  auto named = fetch("http://localhost:" + port(server_) + "/plan",
                     hosts({"localhost", "127.0.0.1"}));
  EXPECT_EQ(named.status, "ok") << named.detail;
}

TEST_F(DocumentsTest, TheDetailIsTheClassOfOutcomeNeverTheAnswer) {
  const auto allowed = hosts({"127.0.0.1"});
  auto error = fetch(server_.url() + "/secret", allowed);
  EXPECT_EQ(error.status, "unreachable");
  EXPECT_EQ(error.detail, "HTTP 500");
  auto gone = fetch(server_.url() + "/gone", allowed);
  EXPECT_EQ(gone.status, "missing");
  EXPECT_EQ(gone.detail, "gone (HTTP 404)");
  // A redirect is not followed (to the metadata service, here).
  auto moved = fetch(server_.url() + "/moved", allowed);
  EXPECT_EQ(moved.status, "unreachable");
  EXPECT_EQ(moved.detail, "HTTP 302");
  // No port scan: a closed port is only "connection refused".
  std::string closed_port;
  {
    testing::FixtureServer gone_server([](const HttpRequest&) { return HttpReply{}; });
    closed_port = port(gone_server);
  }
  auto refused = fetch("http://127.0.0.1:" + closed_port + "/", allowed);
  EXPECT_EQ(refused.status, "unreachable");
  EXPECT_EQ(refused.detail, "connection refused");
  for (const auto& c : {error, gone, moved, refused}) {
    EXPECT_EQ(c.detail.find("sk-live"), std::string::npos);
    EXPECT_EQ(c.detail.find("bytes"), std::string::npos);
  }
}

TEST(DocumentHosts, PatternsAndTheirErrors) {
  auto h = hosts({"wiki.example.com", "*.corp.example", "10.20.0.0/16", "fd00::/8"});
  EXPECT_TRUE(h.allowsHost("wiki.example.com"));
  EXPECT_TRUE(h.allowsHost("WIKI.example.com"));
  EXPECT_FALSE(h.allowsHost("evil-wiki.example.com"));
  EXPECT_TRUE(h.allowsHost("docs.corp.example"));
  EXPECT_FALSE(h.allowsHost("corp.example"));
  EXPECT_FALSE(h.allowsHost("corp.example.evil.com"));
  EXPECT_TRUE(h.allowsHost("10.20.3.4"));
  EXPECT_FALSE(h.allowsHost("10.21.3.4"));
  EXPECT_FALSE(h.allowsHost("169.254.169.254"));
  // Connected addresses: public ones for any allowed name, listed networks, nothing else.
  EXPECT_TRUE(h.allowsAddress("93.184.216.34"));
  EXPECT_TRUE(h.allowsAddress("10.20.0.9"));
  EXPECT_TRUE(h.allowsAddress("fd00::1"));
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "::1",
                        "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(h.allowsAddress(a)) << a;
    EXPECT_TRUE(isNonPublicAddress(a)) << a;
  }
  EXPECT_FALSE(isNonPublicAddress("2606:4700::1111"));
  EXPECT_FALSE(isNonPublicAddress("8.8.8.8"));
  for (const char* bad : {"", "https://wiki.example.com", "wiki.example.com:8080",
                          "10.0.0.0/33", "wiki/path", "*.", "a..b"}) {
    auto r = DocumentHosts::parse({bad});
    EXPECT_FALSE(r) << bad;
  }
}

}  // namespace
}  // namespace opsm::agent
