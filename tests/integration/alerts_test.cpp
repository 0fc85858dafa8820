// The shipped alerting rules in a real Prometheus scraping a real agent daemon: stopping the
// polled source fires OpsmaturityCollectorDown and no regression alert; an evidence change
// that fails a criterion fires OpsmaturityLevelRegressed. The rules are the shipped file with
// its `for:` durations shortened to seconds.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/core/agent.h"
#include "agent/daemon/daemon.h"
#include "collectors/common/http_client.h"
#include "collectors/common/json.h"
#include "tests/support/process.h"
#include "tests/support/drill_pack.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prometheus_bin_ = testing::findExecutable("prometheus");
    ASSERT_FALSE(prometheus_bin_.empty()) << "prometheus must be installed (scripts/setup)";
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    dir_.write("attestations.yaml",
               "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
               "    attested_by: Li Wei\n    document: https://wiki.example.com/crisis-org\n"
               "    date: " + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: true\n");
    drill(3600);
    auto config = agent::loadConfig(
        dir_.write("agent.yml",
                   "listen_address: 127.0.0.1:0\nscore_interval: 1s\nrules_dir: " +
                       testing::drillRulePack(dir_) +
                       "\nattestations_file: attestations.yaml\nsystems: [payments]\n"
                       "collectors:\n  - {name: drills, type: exec, interval: 1s, timeout: 1s, ttl: 10m,\n"
                       "     command: [cat, " + (dir_.path() / "facts.json").string() + "]}\n"),
        registry_);
    ASSERT_TRUE(config) << config.error().message;
    auto a = agent::Agent::create(std::move(*config));
    ASSERT_TRUE(a) << a.error().message;
    agent_ = std::move(*a);
    daemon_ = std::make_unique<agent::Daemon>(*agent_);
    ASSERT_TRUE(daemon_->start().ok());
    runner_ = std::thread([this] { daemon_->run(false); });

    std::string rules = slurp(std::string(OPSM_SOURCE_DIR) + "/config/prometheus/opsmaturity-alerts.yml");
    rules = std::regex_replace(rules, std::regex(R"(for: \d+m)"), "for: 2s");
    dir_.write("opsmaturity-alerts.yml", rules);
    prom_port_ = testing::freePort();
    dir_.write("prometheus.yml",
               "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
               "rule_files: [opsmaturity-alerts.yml]\n"
               "scrape_configs:\n  - job_name: opsmaturity\n    static_configs:\n"
               "      - targets: ['127.0.0.1:" + std::to_string(daemon_->port()) + "']\n");
    prometheus_ = std::make_unique<testing::Process>(
        std::vector<std::string>{prometheus_bin_,
                                 "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "tsdb").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
        (dir_.path() / "prometheus.log").string());
  }
  void TearDown() override {
    prometheus_.reset();
    if (daemon_) daemon_->stop();
    if (runner_.joinable()) runner_.join();
  }

  void drill(double age_seconds) {
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": " +
                                 std::to_string(age_seconds) + "}]}");
  }
  // Value of an instant query's first sample, or -1.
  double query(const std::string& q) {
    auto r = http_.get("http://127.0.0.1:" + std::to_string(prom_port_) + "/api/v1/query?query=" +
                           collectors::urlEncode(q),
                       std::chrono::seconds(2));
    if (!r) return -1;
    auto doc = collectors::parseJson(r->body, "query");
    if (!doc) return -1;
    const auto* data = collectors::objectMember(*doc, "data");
    const auto* result = data ? collectors::arrayMember(*data, "result") : nullptr;
    if (!result || result->Empty()) return -1;
    const auto& v = (*result)[0]["value"][1];
    return v.IsString() ? std::stod(v.GetString()) : -1;
  }
  // Alert states by name, from Prometheus's /api/v1/alerts.
  std::string alerts() {
    auto r = http_.get("http://127.0.0.1:" + std::to_string(prom_port_) + "/api/v1/alerts",
                       std::chrono::seconds(2));
    return r ? r->body : "";
  }
  bool firing(const std::string& name) {
    auto doc = collectors::parseJson(alerts(), "alerts");
    if (!doc) return false;
    const auto* data = collectors::objectMember(*doc, "data");
    const auto* list = data ? collectors::arrayMember(*data, "alerts") : nullptr;
    if (!list) return false;
    for (const auto& a : list->GetArray()) {
      const auto* labels = collectors::objectMember(a, "labels");
      if (labels && collectors::stringMember(*labels, "alertname") == name &&
          collectors::stringMember(a, "state") == "firing") {
        return true;
      }
    }
    return false;
  }

  collectors::Registry registry_;
  testing::TempDir dir_;
  std::string prometheus_bin_;
  std::unique_ptr<agent::Agent> agent_;
  std::unique_ptr<agent::Daemon> daemon_;
  std::thread runner_;
  unsigned short prom_port_ = 0;
  std::unique_ptr<testing::Process> prometheus_;
  collectors::HttpClient http_{collectors::HttpOptions{}};
};

TEST_F(AlertsTest, OutageFiresCollectorDownAndARealRegressionFiresTheRegressionAlert) {
  const std::string level = R"(opsmaturity_item_level{system="payments",item="6.7.4"})";
  ASSERT_TRUE(testing::waitFor([&] { return query(level) == 1; }, std::chrono::seconds(60)))
      << prometheus_->log();

  // The source breaks: collector down fires, the level holds, no regression alert.
  std::filesystem::remove(dir_.path() / "facts.json");
  ASSERT_TRUE(testing::waitFor([&] { return firing("OpsmaturityCollectorDown"); },
                               std::chrono::seconds(60)))
      << alerts();
  EXPECT_EQ(query(level), 1);
  EXPECT_EQ(alerts().find("OpsmaturityLevelRegressed"), std::string::npos) << alerts();

  // The source is back with a drill report two years old: 6.7.4/L1/1 fails, a regression.
  drill(2 * 366 * 86400.0);
  ASSERT_TRUE(testing::waitFor([&] { return firing("OpsmaturityLevelRegressed"); },
                               std::chrono::seconds(60)))
      << alerts();
  EXPECT_EQ(query(level), 0);
  std::string body = alerts();
  EXPECT_NE(body.find("\"item\":\"6.7.4\""), std::string::npos) << body;
}

// Every query of the shipped Grafana dashboard is valid PromQL for a real Prometheus, and the
// core panels return data from a real agent.
TEST_F(AlertsTest, DashboardQueriesRunInPrometheus) {
  ASSERT_TRUE(testing::waitFor(
      [&] { return query(R"(opsmaturity_item_level{system="payments",item="6.7.4"})") == 1; },
      std::chrono::seconds(60)));
  std::string dash = slurp(std::string(OPSM_SOURCE_DIR) + "/config/grafana/opsmaturity.json");
  auto doc = collectors::parseJson(dash, "dashboard");
  ASSERT_TRUE(doc);
  std::vector<std::string> exprs;
  std::function<void(const rapidjson::Value&)> walk = [&](const rapidjson::Value& v) {
    if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        if (std::string(m.name.GetString()) == "expr" && m.value.IsString()) exprs.push_back(m.value.GetString());
        walk(m.value);
      }
    } else if (v.IsArray()) {
      for (const auto& e : v.GetArray()) walk(e);
    }
  };
  walk(*doc);
  ASSERT_GE(exprs.size(), 10u);
  for (std::string e : exprs) {
    e = std::regex_replace(e, std::regex(R"(\$(system|domain))"), ".+");
    auto r = http_.get("http://127.0.0.1:" + std::to_string(prom_port_) + "/api/v1/query?query=" +
                           collectors::urlEncode(e),
                       std::chrono::seconds(5));
    ASSERT_TRUE(r) << e << ": " << r.error().message;
    EXPECT_NE(r->body.find("\"status\":\"success\""), std::string::npos) << e << ": " << r->body;
  }
  EXPECT_EQ(query(R"(sum(opsmaturity_collector_up) / count(opsmaturity_collector_up))"), 1);
}

}  // namespace
}  // namespace opsm
