// The daemon's scheduling: with bounded concurrency, a hung source (it accepts the connection
// and never answers) holds one poll thread until its own timeout and delays no other source;
// their evidence is scored before the hung one gives up, and readiness waits for it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "agent/agent.h"
#include "agent/daemon.h"
#include "collectors/common/http_client.h"
#include "tests/support/fixture_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

namespace asio = boost::asio;

// A REST CMDB whose /api/cis/<n> lists one complete CI of system sys-<n>.
HttpReply cmdb(const HttpRequest& r) {
  const std::string prefix = "/api/cis/";
  if (r.target.rfind(prefix, 0) != 0) return {404, "application/json", R"({"error":"not found"})"};
  std::string n = r.target.substr(prefix.size());
  return {200, "application/json",
          R"({"data":[{"app":{"code":"sys-)" + n + R"("},"owner":"ops","ip":"10.0.0.)" + n + R"("}]})"};
}

std::string metricsLine(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  auto end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

TEST(DaemonTest, AHungSourceDelaysNoOtherSource) {
  // Listening, never accepting: the kernel completes the handshake and takes the request.
  asio::io_context io;
  asio::ip::tcp::acceptor hung(io, {asio::ip::make_address("127.0.0.1"), 0});
  testing::FixtureServer server(cmdb);
  testing::TempDir dir;
  std::string yaml = "listen_address: 127.0.0.1:0\nrules_dir: " + std::string(OPSM_SOURCE_DIR) +
                     "/rules\nmax_concurrent_polls: 2\ncollectors:\n"
                     "  - {name: hung, type: rest_cmdb, interval: 60s, timeout: 60s, url: "
                     "\"http://127.0.0.1:" + std::to_string(hung.local_endpoint().port()) +
                     "/api/cis\", items: /data, system: /app/code}\n";
  const int kOthers = 6;
  for (int n = 0; n < kOthers; ++n) {
    yaml += "  - {name: cmdb-" + std::to_string(n) + ", type: rest_cmdb, interval: 60s, url: \"" +
            server.url() + "/api/cis/" + std::to_string(n) +
            "\", items: /data, system: /app/code, required: [/owner, /ip]}\n";
  }
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto config = loadConfig(dir.write("agent.yml", yaml), registry);
  ASSERT_TRUE(config) << config.error().message;
  auto agent = Agent::create(std::move(*config));
  ASSERT_TRUE(agent) << agent.error().message;
  Daemon daemon(**agent);
  ASSERT_TRUE(daemon.start().ok());
  std::thread runner([&] { daemon.run(false); });
  collectors::HttpClient http{collectors::HttpOptions{}};
  const std::string base = "http://127.0.0.1:" + std::to_string(daemon.port());
  auto metrics = [&] {
    auto r = http.get(base + "/metrics", std::chrono::seconds(5));
    return r ? r->body : std::string();
  };

  // Every other source is polled and scored while the hung one still holds its thread.
  std::string text;
  bool others_done = testing::waitFor(
      [&] {
        text = metrics();
        for (int n = 0; n < kOthers; ++n) {
          std::string sys = "sys-" + std::to_string(n);
          if (metricsLine(text, "opsmaturity_collector_up{collector=\"cmdb-" + std::to_string(n) +
                                    "\"}") != "opsmaturity_collector_up{collector=\"cmdb-" +
                                                  std::to_string(n) + "\"} 1" ||
              text.find("opsmaturity_system_level{system=\"" + sys + "\"}") == std::string::npos) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(others_done) << text;
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_failures_total{collector=\"hung\"}"),
            "opsmaturity_collector_failures_total{collector=\"hung\"} 0");
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_up{collector=\"hung\"}"),
            "opsmaturity_collector_up{collector=\"hung\"} 0");
  EXPECT_FALSE(http.get(base + "/-/ready", std::chrono::seconds(5)).ok())
      << "ready before the hung source's first poll ended";
  EXPECT_NE(text.find("\nopsmaturity_scorings_total "), std::string::npos);
  EXPECT_EQ(metricsLine(text, "opsmaturity_scored_systems"), "opsmaturity_scored_systems " + std::to_string(kOthers));

  // The hung source's server goes away (its pending connection is reset): its poll fails,
  // the agent becomes ready and the others' evidence is untouched.
  hung.close();
  EXPECT_TRUE(testing::waitFor([&] { return http.get(base + "/-/ready", std::chrono::seconds(5)).ok(); },
                               std::chrono::seconds(30)));
  text = metrics();
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_failures_total{collector=\"hung\"}"),
            "opsmaturity_collector_failures_total{collector=\"hung\"} 1");
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_up{collector=\"cmdb-3\"}"),
            "opsmaturity_collector_up{collector=\"cmdb-3\"} 1");
  daemon.stop();
  runner.join();
}

// Sources that timed out are polled on a small pool of their own from then on: even as many
// hung sources as poll threads take no thread from the answering ones after their first
// timeout. Round 1 (t=0): both hung sources hold both threads until their 2 s timeout, the
// others wait. Round 2 (t=3 s): the answering sources are polled at once, while the hung ones
// queue for the one suspect thread (their next failures come at t=5 s and t=7 s).
TEST(DaemonTest, SourcesThatTimedOutCannotTakeEveryThread) {
  asio::io_context io;
  asio::ip::tcp::acceptor hung0(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::acceptor hung1(io, {asio::ip::make_address("127.0.0.1"), 0});
  testing::FixtureServer server(cmdb);
  testing::TempDir dir;
  std::string yaml = "listen_address: 127.0.0.1:0\nrules_dir: " + std::string(OPSM_SOURCE_DIR) +
                     "/rules\nmax_concurrent_polls: 2\ncollectors:\n";
  for (auto* a : {&hung0, &hung1}) {
    yaml += "  - {name: hung-" + std::to_string(a == &hung0 ? 0 : 1) +
            ", type: rest_cmdb, interval: 3s, timeout: 2s, url: \"http://127.0.0.1:" +
            std::to_string(a->local_endpoint().port()) + "/api/cis\", items: /data, system: /app/code}\n";
  }
  const int kOthers = 4;
  for (int n = 0; n < kOthers; ++n) {
    yaml += "  - {name: cmdb-" + std::to_string(n) + ", type: rest_cmdb, interval: 3s, timeout: 1s, url: \"" +
            server.url() + "/api/cis/" + std::to_string(n) + "\", items: /data, system: /app/code}\n";
  }
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto config = loadConfig(dir.write("agent.yml", yaml), registry);
  ASSERT_TRUE(config.ok()) << config.error().describe();
  auto agent = Agent::create(std::move(*config));
  ASSERT_TRUE(agent) << agent.error().message;
  Daemon daemon(**agent);
  ASSERT_TRUE(daemon.start().ok());
  std::thread runner([&] { daemon.run(false); });
  collectors::HttpClient http{collectors::HttpOptions{}};
  const std::string base = "http://127.0.0.1:" + std::to_string(daemon.port());

  auto polls = [&](int n) {
    int count = 0;
    for (const auto& r : server.requests()) count += r.target == "/api/cis/" + std::to_string(n);
    return count;
  };
  bool second_round = testing::waitFor(
      [&] {
        for (int n = 0; n < kOthers; ++n) {
          if (polls(n) < 2) return false;
        }
        return true;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(second_round);
  auto r = http.get(base + "/metrics", std::chrono::seconds(5));
  ASSERT_TRUE(r) << r.error().message;
  for (const char* name : {"hung-0", "hung-1"}) {
    std::string series = std::string("opsmaturity_collector_failures_total{collector=\"") + name + "\"}";
    EXPECT_EQ(metricsLine(r->body, series), series + " 1")
        << "the answering sources' second poll waited for a hung source's second timeout";
  }
  hung0.close();
  hung1.close();
  daemon.stop();
  runner.join();
}

}  // namespace
}  // namespace opsm::agent
