// The haproxy collector against a real HAProxy started by the test on loopback, read both ways
// (the stats page in CSV over HTTP, and `show stat` on the runtime socket). The backends'
// servers are listening sockets of the test: closing one takes its server down (HAProxy's TCP
// health check fails), and the evidence follows.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "collectors/collector.h"
#include "tests/support/collect.h"
#include "collectors/haproxy/haproxy_collector.h"
#include "common/yaml_util.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using Facts = std::map<std::string, std::map<std::string, scorer::Value>>;  // system, key

// A TCP listener on 127.0.0.1: the kernel completes HAProxy's check connections.
class Listener {
 public:
  Listener() {
    // close-on-exec: HAProxy, started after, must not hold it open
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 64);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

std::unique_ptr<collectors::Collector> build(const std::string& yaml) {
  auto c = testing::buildCollector(yaml);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

// One poll, by system then key.
Result<Facts> collect(collectors::Collector& c) {
  auto facts = testing::pollOnce(c);
  if (!facts) return facts.error();
  Facts out;
  for (auto& [at, value] : *facts) out[at.first][at.second] = value;
  return out;
}

class HaproxyIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::findExecutable("haproxy").empty()) {
      GTEST_FAIL() << "haproxy is not installed (scripts/setup installs it)";
    }
    stats_port_ = testing::freePort();
    socket_ = (dir_.path() / "admin.sock").string();
    config_ = (dir_.path() / "haproxy.cfg").string();
    auto server = [](const char* name, unsigned short port, const char* options) {
      return std::string("  server ") + name + " 127.0.0.1:" + std::to_string(port) + options +
             "\n";
    };
    const char* check = " check inter 200ms fall 1 rise 1";
    std::ofstream(config_) << "global\n"
                           << "  stats socket " << socket_ << " mode 600 level admin\n"
                           << "defaults\n  mode tcp\n  timeout connect 1s\n"
                           << "  timeout client 5s\n  timeout server 5s\n"
                           << "frontend stats\n  mode http\n  bind 127.0.0.1:" << stats_port_
                           << "\n  stats enable\n  stats uri /stats\n"
                           << "backend payments_web\n  option redispatch\n"
                           << server("s1", web1_.port(), check) << server("s2", web2_.port(), check)
                           << "backend payments_api\n"
                           << server("a1", api_.port(), "")  // no health check
                           << "backend billing_web\n  option redispatch\n"
                           << server("b1", billing_.port(), check)
                           // one active server and a backup: a failover, not balancing
                           << "backend shop_web\n"
                           << server("w1", shop1_.port(), check)
                           << server("w2", shop2_.port(), " check inter 200ms fall 1 rise 1 backup");
    haproxy_ = std::make_unique<testing::Process>(
        std::vector<std::string>{"haproxy", "-db", "-f", config_},
        (dir_.path() / "haproxy.log").string());
    ASSERT_TRUE(testing::waitFor([&] { return std::filesystem::exists(socket_); },
                                 std::chrono::seconds(10)))
        << haproxy_->log();
  }

  std::string yaml(const std::string& source) {
    return "name: lb\ntype: haproxy\n" + source + "\nbackend_regex: '^([a-z]+)_'\nconfig_file: " +
           config_ + "\n";
  }

  testing::TempDir dir_;
  Listener web1_, web2_, api_, billing_, shop1_, shop2_;
  unsigned short stats_port_ = 0;
  std::string socket_, config_;
  std::unique_ptr<testing::Process> haproxy_;
};

TEST_F(HaproxyIntegration, BackendsServersAndChecksFollowTheServers) {
  auto over_http = build(yaml("url: http://127.0.0.1:" + std::to_string(stats_port_) + "/stats;csv"));
  auto over_socket = build(yaml("socket: " + socket_));
  ASSERT_TRUE(over_http && over_socket);
  Result<Facts> facts = makeError(ErrorCode::kInternal, "not polled");
  // The first checks run a moment after start.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*over_http);
        return facts && facts->count("payments") && facts->count("shop") &&
               facts->at("payments").at("loadbalancer.haproxy.servers_checked") == scorer::Value(2) &&
               facts->at("shop").at("loadbalancer.haproxy.servers_checked") == scorer::Value(2);
      },
      std::chrono::seconds(15)))
      << (facts ? "servers never checked" : facts.error().message) << "\n" << haproxy_->log();
  auto& pay = facts->at("payments");
  EXPECT_EQ(pay.at("loadbalancer.haproxy.backends"), scorer::Value(2));
  EXPECT_EQ(pay.at("loadbalancer.haproxy.backend_names"),
            scorer::Value(scorer::StringList{"payments_api", "payments_web"}));
  EXPECT_EQ(pay.at("loadbalancer.haproxy.servers"), scorer::Value(3));
  EXPECT_EQ(pay.at("loadbalancer.haproxy.servers_up"), scorer::Value(3));
  // payments_api has one server: one failure takes it down
  EXPECT_EQ(pay.at("loadbalancer.haproxy.min_servers_up"), scorer::Value(1));
  EXPECT_EQ(pay.at("loadbalancer.haproxy.all_servers_checked"), scorer::Value(false));
  // payments_api has no `option redispatch`
  EXPECT_EQ(pay.at("loadbalancer.haproxy.redispatch"), scorer::Value(false));
  auto& billing = facts->at("billing");
  EXPECT_EQ(billing.at("loadbalancer.haproxy.all_servers_checked"), scorer::Value(true));
  EXPECT_EQ(billing.at("loadbalancer.haproxy.redispatch"), scorer::Value(true));
  EXPECT_EQ(facts->count("stats"), 0u);  // the stats frontend is nobody's backend
  // shop_web: both servers up and checked, but the second is a backup (bck=1): one server
  // carries the traffic, so no backend of shop balances it (6.6.1/L2/1 wants 2).
  auto& shop = facts->at("shop");
  EXPECT_EQ(shop.at("loadbalancer.haproxy.servers_up"), scorer::Value(2));
  EXPECT_EQ(shop.at("loadbalancer.haproxy.backup_servers"), scorer::Value(1));
  EXPECT_EQ(shop.at("loadbalancer.haproxy.min_servers_up"), scorer::Value(1));

  // The runtime socket says the same.
  auto by_socket = collect(*over_socket);
  ASSERT_TRUE(by_socket) << by_socket.error().message;
  EXPECT_EQ(by_socket->at("payments").at("loadbalancer.haproxy.servers_up"), scorer::Value(3));
  EXPECT_EQ(by_socket->at("billing"), facts->at("billing"));

  // s2 stops listening: its check fails and it goes DOWN.
  web2_.close();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*over_socket);
        return facts && facts->at("payments").at("loadbalancer.haproxy.servers_up") ==
                            scorer::Value(2);
      },
      std::chrono::seconds(15)))
      << (facts ? facts->at("payments").at("loadbalancer.haproxy.servers_up").toString()
                : facts.error().message);
  // billing's only server goes too: its backend is down
  billing_.close();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*over_http);
        return facts && facts->at("billing").at("loadbalancer.haproxy.backends_down") ==
                            scorer::Value(1);
      },
      std::chrono::seconds(15)))
      << "billing_web never went down";
  EXPECT_EQ(facts->at("billing").at("loadbalancer.haproxy.min_servers_up"), scorer::Value(0));
}

TEST_F(HaproxyIntegration, AStoppedHaproxyIsAFailedPollThatNamesTheSource) {
  auto over_socket = build(yaml("socket: " + socket_));
  ASSERT_TRUE(over_socket);
  haproxy_->stop();
  auto facts = collect(*over_socket);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("HAProxy socket " + socket_), std::string::npos)
      << facts.error().message;
}

// Parsing without a server: quoting, the header, hostile answers.
TEST(HaproxyStats, CsvQuotingHeaderAndErrors) {
  auto rows = collectors::haproxy::parseStatCsv(
      "# pxname,svname,status,check_status,type,\n"
      "web,BACKEND,UP,,1,\n"
      "web,s1,UP,L4OK,2,\n"
      "\"a,b\",\"say \"\"hi\"\"\",DOWN,,2,\n");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].at("check_status"), "L4OK");
  EXPECT_EQ((*rows)[2].at("pxname"), "a,b");
  EXPECT_EQ((*rows)[2].at("svname"), "say \"hi\"");
  EXPECT_FALSE(collectors::haproxy::parseStatCsv("<html>login</html>\n"));
  EXPECT_FALSE(collectors::haproxy::parseStatCsv(""));
  auto unclosed = collectors::haproxy::parseStatCsv("# pxname,svname\n\"web,s1\n");
  ASSERT_FALSE(unclosed);
  EXPECT_NE(unclosed.error().message.find("line 2"), std::string::npos);
}

TEST(HaproxyConfig, RedispatchFollowsDefaultsAndSections) {
  auto r = collectors::haproxy::redispatchByBackend(
      "defaults\n  option redispatch\n"
      "backend a\n  server s 1.2.3.4:80\n"
      "backend b\n  no option redispatch   # off here\n"
      "defaults plain\n  mode http\n"
      "backend c\n"
      "listen d from plain\n"
      "defaults more from plain\n"
      "defaults\n  option redispatch 3\n"
      "backend e\n");
  EXPECT_EQ(r, (std::map<std::string, bool>{
                   {"a", true}, {"b", false}, {"c", false}, {"d", false}, {"e", true}}));
}

}  // namespace
}  // namespace opsm
