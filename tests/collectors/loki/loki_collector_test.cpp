// The Loki collector against a fixture server that speaks Grafana Loki's HTTP API as
// documented for 2.x (Loki is not in Debian: Debian's package `loki` is an unrelated genetics
// program): GET /loki/api/v1/series (match[], start, end in nanoseconds) -> {"status":
// "success", "data": [label sets]}; GET /loki/api/v1/query (a metric query) -> {"status":
// "success", "data": {"resultType": "vector", "result": [{"metric", "value": [t, "n"]}]}};
// GET /loki/api/v1/query_range (limit, direction=backward) -> "streams" with "values":
// [["<ns>", "line"]]; GET /config -> the running config as YAML; X-Scope-OrgID for the
// tenant; 4xx answers with a plain-text body. Plus every fault of tests/support/faults.h.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/collect.h"
#include "tests/support/faults.h"
#include "tests/support/fixture_server.h"

namespace opsm {
namespace {

using scorer::Value;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

class LokiFixture {
 public:
  LokiFixture()
      : server_([this](const agent::HttpRequest& r) {
          return faults.apply([&] { return serve(r); }, "no org id\n");
        }) {}
  std::string url() const { return server_.url(); }
  std::vector<agent::HttpRequest> requests() const { return server_.requests(); }
  void setShopNewest(long long seconds_ago) {
    std::lock_guard lock(mu_);
    shop_newest_ago_ = seconds_ago;
  }
  testing::FaultInjector faults;

 private:
  agent::HttpReply serve(const agent::HttpRequest& r) {
    if (!r.headers.count("x-scope-orgid") || r.headers.at("x-scope-orgid") != "team-a") {
      return {401, "text/plain", "no org id\n"};
    }
    std::lock_guard lock(mu_);
    const std::string& t = r.target;
    if (r.path() == "/loki/api/v1/series") {
      // the application selector narrows to the app streams
      if (t.find("source%3D%22app%22") != std::string::npos) {
        return {200, "application/json",
                R"({"status": "success", "data": [{"system": "shop", "source": "app", "app": "web"}]})"};
      }
      return {200, "application/json",
              R"({"status": "success", "data": [{"system": "shop", "source": "app", "app": "web"},
                 {"system": "shop", "source": "journal", "unit": "nginx.service"},
                 {"system": "ledger", "source": "journal", "unit": "sshd.service"}]})"};
    }
    if (r.path() == "/loki/api/v1/query") {
      return {200, "application/json",
              R"({"status": "success", "data": {"resultType": "vector", "result": [
                 {"metric": {"system": "shop"}, "value": [1800000000, "1520"]},
                 {"metric": {"system": "ledger"}, "value": [1800000000, "3"]}]}})"};
    }
    if (r.path() == "/loki/api/v1/query_range") {
      const bool shop = t.find("shop") != std::string::npos;
      long long ago = shop ? shop_newest_ago_ : 1800;
      std::string ns = std::to_string((1'800'000'000LL - ago) * 1'000'000'000LL);
      return {200, "application/json",
              R"({"status": "success", "data": {"resultType": "streams", "result": [{"stream": {}, "values": [[")" +
                  ns + R"(", "GET /cart 200"]]}]}})"};
    }
    if (r.path() == "/config") {
      return {200, "text/plain; charset=utf-8",
              "auth_enabled: true\ncompactor:\n  retention_enabled: true\nlimits_config:\n  "
              "retention_period: 744h\n"};
    }
    return {404, "text/plain", "404 page not found\n"};
  }

  mutable std::mutex mu_;
  long long shop_newest_ago_ = 30;
  testing::FixtureServer server_;
};

class LokiCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = testing::buildCollector("name: loki\ntype: loki\nurl: " + fixture_.url() +
                                     "\ntenant: team-a\napplication_matchers: 'source=\"app\"'\n");
    ASSERT_TRUE(c) << c.error().message;
    collector_ = std::move(*c);
  }
  LokiFixture fixture_;
  std::unique_ptr<collectors::Collector> collector_;
};

TEST_F(LokiCollectorTest, StreamsLinesRecencyAndRetentionPerSystem) {
  auto facts = testing::pollOnce(*collector_, std::chrono::seconds(10), kNow);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"shop", "logs.loki.streams"}), Value(2));
  EXPECT_EQ(facts->at({"shop", "logs.loki.lines_window"}), Value(1520));
  EXPECT_EQ(facts->at({"shop", "logs.loki.collected"}), Value(true));
  EXPECT_EQ(facts->at({"shop", "logs.loki.newest_age_seconds"}), Value(30));
  EXPECT_EQ(facts->at({"shop", "logs.loki.application_streams"}), Value(1));
  EXPECT_EQ(facts->at({"shop", "logs.loki.application_logs"}), Value(true));
  EXPECT_EQ(facts->at({"shop", "logs.loki.retention_seconds"}), Value(744 * 3600));
  // ledger ships only its journal: logs collected, but no application logs
  EXPECT_EQ(facts->at({"ledger", "logs.loki.collected"}), Value(true));
  EXPECT_EQ(facts->at({"ledger", "logs.loki.application_logs"}), Value(false));
  // every request carried the tenant; the window is the last hour, in nanoseconds
  for (const auto& r : fixture_.requests()) EXPECT_EQ(r.headers.at("x-scope-orgid"), "team-a");
  bool windowed = false;
  for (const auto& r : fixture_.requests()) {
    windowed = windowed || (r.path() == "/loki/api/v1/series" &&
                            r.target.find("start=1799996400000000000") != std::string::npos &&
                            r.target.find("end=1800000000000000000") != std::string::npos);
  }
  EXPECT_TRUE(windowed);

  // The shop's shipper stops: its newest line grows old.
  fixture_.setShopNewest(3000);
  facts = testing::pollOnce(*collector_, std::chrono::seconds(10), kNow);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"shop", "logs.loki.newest_age_seconds"}), Value(3000));
}

TEST_F(LokiCollectorTest, EveryFaultIsAClearError) {
  testing::expectFaultsHandled(*collector_, fixture_.faults, "team-a-not-a-secret");
}

TEST(LokiConfig, BadLabelMatchersAndWindowAreConfigErrors) {
  auto bad_label = testing::buildCollector("type: loki\nurl: http://127.0.0.1:1\nsystem_label: 'a-b'\n");
  ASSERT_FALSE(bad_label);
  EXPECT_NE(bad_label.error().message.find("system_label"), std::string::npos);
  auto braces = testing::buildCollector("type: loki\nurl: http://127.0.0.1:1\napplication_matchers: '{a=\"b\"}'\n");
  ASSERT_FALSE(braces);
  EXPECT_NE(braces.error().message.find("without braces"), std::string::npos);
  auto window = testing::buildCollector("type: loki\nurl: http://127.0.0.1:1\nwindow: 0s\n");
  ASSERT_FALSE(window);
}

}  // namespace
}  // namespace opsm
