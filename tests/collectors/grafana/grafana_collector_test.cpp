// The Grafana collector against a fixture server that speaks Grafana's HTTP API as documented
// (Grafana is not in Debian): GET /api/search?type=dash-db with limit/page, GET
// /api/dashboards/uid/<uid>, `Authorization: Bearer <service account token>`, 401
// {"message": "Unauthorized"}; plus every fault of tests/support/faults.h.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/collect.h"
#include "tests/support/faults.h"
#include "tests/support/fixture_server.h"

namespace opsm {
namespace {

using scorer::StringList;
using scorer::Value;
const std::string kToken = "glsa_grafana_service_account_token";

class GrafanaFixture {
 public:
  GrafanaFixture()
      : server_([this](const agent::HttpRequest& r) {
          return faults.apply([&] { return serve(r); }, R"({"message": "Unauthorized"})");
        }) {
    hits_ = {
        R"({"id": 1, "uid": "pay-overview", "title": "Payments overview", "type": "dash-db", "tags": ["system:payments", "tier1"], "folderTitle": "Payments"})",
        R"({"id": 2, "uid": "pay-db", "title": "Payments database", "type": "dash-db", "tags": ["system:payments"]})",
        R"({"id": 3, "uid": "ledger", "title": "Ledger", "type": "dash-db", "tags": ["system:ledger"]})",
        R"({"id": 4, "uid": "scratch", "title": "Scratch", "type": "dash-db", "tags": []})"};
    dashboards_["pay-overview"] = R"({"dashboard": {"uid": "pay-overview", "title": "Payments overview",
      "templating": {"list": [{"name": "ds", "type": "datasource"}, {"name": "cluster", "type": "query"}, {"name": "instance", "type": "query"}]},
      "links": [{"title": "Database", "type": "link", "url": "/d/pay-db"}],
      "panels": [
        {"type": "timeseries", "title": "Latency", "fieldConfig": {"defaults": {"links": [{"title": "Traces", "url": "/explore"}, {"title": "Instance", "url": "/d/pay-db?var-instance=${__field.labels.instance}&${__url_time_range}"}]}}},
        {"type": "row", "title": "Topology", "collapsed": true, "panels": [{"type": "nodeGraph", "title": "Calls"}]}
      ]}, "meta": {"slug": "payments-overview"}})";
    dashboards_["pay-db"] = R"({"dashboard": {"uid": "pay-db", "title": "Payments database", "panels": [{"type": "table", "links": [{"url": "/d/pay-overview"}]}]}, "meta": {}})";
    dashboards_["ledger"] = R"({"dashboard": {"uid": "ledger", "title": "Ledger", "templating": {"list": [{"name": "ds", "type": "datasource"}]}, "panels": [{"type": "stat"}]}, "meta": {}})";
  }
  std::string url() const { return server_.url(); }
  void drop(const std::string& uid) {
    std::lock_guard lock(mu_);
    hits_.erase(std::remove_if(hits_.begin(), hits_.end(),
                               [&](const std::string& h) { return h.find("\"" + uid + "\"") != std::string::npos; }),
                hits_.end());
  }
  testing::FaultInjector faults;

 private:
  agent::HttpReply serve(const agent::HttpRequest& r) {
    if (!r.headers.count("authorization") || r.headers.at("authorization") != "Bearer " + kToken) {
      return {401, "application/json", R"({"message": "Unauthorized"})"};
    }
    std::lock_guard lock(mu_);
    if (r.path() == "/api/search") {
      if (r.target.find("type=dash-db") == std::string::npos) {
        return {200, "application/json", R"([{"uid": "f1", "type": "dash-folder", "title": "Folder"}])"};
      }
      auto num = [&](const std::string& name) {
        auto p = r.target.find(name + "=");
        return p == std::string::npos ? 0ul : std::stoul(r.target.substr(p + name.size() + 1));
      };
      size_t limit = num("limit"), page = std::max(1ul, num("page"));
      std::string body;
      for (size_t i = (page - 1) * limit; i < std::min(hits_.size(), page * limit); ++i) {
        body += (body.empty() ? "" : ",") + hits_[i];
      }
      return {200, "application/json", "[" + body + "]"};
    }
    const std::string prefix = "/api/dashboards/uid/";
    if (r.path().rfind(prefix, 0) == 0) {
      auto it = dashboards_.find(r.path().substr(prefix.size()));
      if (it != dashboards_.end()) return {200, "application/json", it->second};
      return {404, "application/json", R"({"message": "Dashboard not found"})"};
    }
    return {404, "application/json", R"({"message": "Not found"})"};
  }
  std::mutex mu_;
  std::vector<std::string> hits_;
  std::map<std::string, std::string> dashboards_;
  testing::FixtureServer server_;
};

class GrafanaCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("OPSM_TEST_GRAFANA_TOKEN", kToken.c_str(), 1);
    auto c = testing::buildCollector("type: grafana\nurl: " + fixture_.url() +
                                     "/\nbearer_token_env: OPSM_TEST_GRAFANA_TOKEN\npage_size: 3\n");
    ASSERT_TRUE(c) << c.error().message;
    collector_ = std::move(*c);
  }
  GrafanaFixture fixture_;
  std::unique_ptr<collectors::Collector> collector_;
};

TEST_F(GrafanaCollectorTest, DashboardsPerSystemTagAcrossPages) {
  auto facts = testing::pollOnce(*collector_);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.dashboards"}), Value(2));
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.templated_ratio"}), Value(0.5));
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.variables"}),
            Value(StringList{"cluster", "instance"}));
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.panel_types"}),
            Value(StringList{"nodeGraph", "table", "timeseries"}));
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.dashboard_links"}), Value(1));
  // Of its three panel and data links only the one carrying the clicked field drills down;
  // "/explore" and "/d/pay-overview" are plain links, shown whatever was clicked.
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.data_links"}), Value(1));
  // A datasource variable is not a dimension of the data.
  EXPECT_EQ(facts->at({"ledger", "visualization.grafana.templated_ratio"}), Value(0));
  // Any other system (crm): no dashboards, the default.
  EXPECT_EQ(facts->count({"crm", "visualization.grafana.dashboards"}), 0u);
  EXPECT_EQ(facts->at({scorer::kAnySystem, "visualization.grafana.dashboards"}), Value(0));
  EXPECT_EQ(facts->count({scorer::kAnySystem, "visualization.grafana.templated_ratio"}), 0u);

  fixture_.drop("pay-overview");
  facts = testing::pollOnce(*collector_);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.dashboards"}), Value(1));
  EXPECT_EQ(facts->at({"payments", "visualization.grafana.panel_types"}), Value(StringList{"table"}));
}

TEST_F(GrafanaCollectorTest, EveryFaultIsAClearErrorWithoutTheToken) {
  testing::expectFaultsHandled(*collector_, fixture_.faults, kToken);
}

}  // namespace
}  // namespace opsm
