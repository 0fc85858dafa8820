// The Alertmanager collector against a real Alertmanager (Debian's prometheus-alertmanager)
// started by the test on a free loopback port, clustering disabled.
#include <gtest/gtest.h>

#include "collectors/alertmanager/alertmanager_collector.h"
#include "collectors/common/http_client.h"
#include "common/yaml_util.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using scorer::StringList;
using scorer::Value;

const char* kConfig = R"(route:
  receiver: default
  group_by: [alertname, system]
  routes:
    - receiver: payments-pager
      matchers: ['system="payments"']
      continue: true
    - receiver: billing
      match: {system: billing}
receivers:
  - name: default
    webhook_configs: [{url: "http://127.0.0.1:1/hook"}]
  - name: payments-pager
    email_configs: [{to: "oncall@example.invalid", from: "am@example.invalid", smarthost: "127.0.0.1:25"}]
    webhook_configs: [{url: "http://127.0.0.1:1/pager"}]
  - name: billing
    slack_configs: [{api_url: "http://127.0.0.1:1/slack", channel: "#billing"}]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [system]
)";

class AlertmanagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string bin = testing::findExecutable("prometheus-alertmanager");
    ASSERT_FALSE(bin.empty()) << "prometheus-alertmanager must be installed (scripts/setup)";
    port_ = testing::freePort();
    config_path_ = dir_.write("alertmanager.yml", kConfig);
    am_ = std::make_unique<testing::Process>(
        std::vector<std::string>{bin, "--config.file=" + config_path_,
                                 "--storage.path=" + (dir_.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--cluster.listen-address="},
        (dir_.path() / "alertmanager.log").string());
    ASSERT_TRUE(testing::waitFor(
        [&] { return http_.get(url() + "/-/ready", std::chrono::seconds(1)).ok(); },
        std::chrono::seconds(30)))
        << am_->log();

    collectors::Registry registry;
    ASSERT_TRUE(collectors::alertmanager::registerAlertmanager(registry).ok());
    auto node = loadYamlString("name: am\ntype: alertmanager\nurl: " + url() + "\n", "agent.yml");
    ASSERT_TRUE(node.ok());
    auto c = registry.find("alertmanager")->create({"am", "agent.yml", *node});
    ASSERT_TRUE(c.ok()) << c.error().message;
    collector_ = std::move(*c);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void collect(bool expect_ok = true) {
    collectors::CollectContext ctx;
    ctx.now = Clock::now();
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    auto r = collector_->collect(ctx);
    ASSERT_EQ(r.ok(), expect_ok) << (r.ok() ? "" : r.error().message);
    facts_.clear();
    if (r.ok()) {
      for (auto& f : *r) facts_[f.system + " " + f.key] = f.value;
    }
  }

  Value fact(const std::string& system, const std::string& key) {
    auto it = facts_.find(system + " alerting.alertmanager." + key);
    EXPECT_NE(it, facts_.end()) << system << " " << key;
    return it == facts_.end() ? Value("<missing>") : it->second;
  }

  void post(const std::string& path, const std::string& body) {
    auto r = http_.post(url() + path, body, "application/json", std::chrono::seconds(5));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  testing::TempDir dir_;
  unsigned short port_ = 0;
  std::string config_path_;
  std::unique_ptr<testing::Process> am_;
  collectors::HttpClient http_{collectors::HttpOptions{}};
  std::unique_ptr<collectors::Collector> collector_;
  std::map<std::string, Value> facts_;
};

TEST_F(AlertmanagerTest, RoutesReceiversAndIntegrationsPerSystem) {
  collect();
  EXPECT_EQ(fact("payments", "integration_types"), Value(StringList{"email", "webhook"}));
  // Routed as Alertmanager does: payments-pager takes the alert (continue, but no later
  // sibling matches), so the root's default receiver does not.
  EXPECT_EQ(fact("payments", "receivers"), Value(1));
  EXPECT_EQ(fact("payments", "dedicated_route"), Value(true));
  EXPECT_EQ(fact("payments", "grouping_enabled"), Value(true));
  EXPECT_EQ(fact("billing", "integration_types"), Value(StringList{"slack"}));
  EXPECT_EQ(fact("billing", "dedicated_route"), Value(true));
  // A system the route tree does not name (ledger) gets the default: the default route.
  EXPECT_EQ(facts_.count("ledger alerting.alertmanager.receivers"), 0u);
  EXPECT_EQ(fact(scorer::kAnySystem, "integration_types"), Value(StringList{"webhook"}));
  EXPECT_EQ(fact(scorer::kAnySystem, "receivers"), Value(1));
  EXPECT_EQ(fact(scorer::kAnySystem, "dedicated_route"), Value(false));
  // The inhibit rule mutes warnings; all that is known of payments' alerts (no
  // prometheus_url, none active) is their system label: it mutes none of them.
  EXPECT_EQ(fact("payments", "inhibit_rules"), Value(0));
  EXPECT_EQ(fact("payments", "cluster_status"), Value("disabled"));
  EXPECT_EQ(fact("payments", "cluster_peers"), Value(0));
  EXPECT_EQ(fact("payments", "alerts_active"), Value(0));
  EXPECT_EQ(fact("billing", "silences_active"), Value(0));
}

// A default-ish tree: one route for everything but a sandbox, one for any system, and a route
// naming payments that no alert reaches (the catch-all before it takes every alert, without
// `continue`), and to `null` besides. Payments' alerts reach two channels, but no route of
// payments' own: `!=` and `=~".+"` name nobody, and an unreachable route is not taken.
TEST_F(AlertmanagerTest, CatchAllRoutesAreNotDedicatedAndUnreachableRoutesAreNotTaken) {
  dir_.write("alertmanager.yml", R"(route:
  receiver: "null"
  group_by: ["..."]
  routes:
    - receiver: team
      matchers: ['system!="sandbox"']
      continue: true
    - receiver: everyone
      matchers: ['system=~".+"']
    - receiver: payments-pager
      matchers: ['system="payments"']
receivers:
  - name: "null"
  - name: team
    webhook_configs: [{url: "http://127.0.0.1:1/team"}]
  - name: everyone
    email_configs: [{to: "all@example.invalid", from: "am@example.invalid", smarthost: "127.0.0.1:25"}]
  - name: payments-pager
    pagerduty_configs: [{routing_key: "pd-key", url: "http://127.0.0.1:1/pd"}]
)");
  post("/-/reload", "");
  ASSERT_TRUE(testing::waitFor(
      [&] {
        collect();
        return facts_.count("payments alerting.alertmanager.integration_types") &&
               facts_["payments alerting.alertmanager.integration_types"] ==
                   Value(StringList{"email", "webhook"});
      },
      std::chrono::seconds(10)))
      << fact("payments", "integration_types").toString();
  EXPECT_EQ(fact("payments", "dedicated_route"), Value(false));
  EXPECT_EQ(fact("payments", "receivers"), Value(2));
  // group_by ["..."] groups by every label: no grouping at all
  EXPECT_EQ(fact("payments", "grouping_enabled"), Value(false));
}

TEST_F(AlertmanagerTest, EvidenceFollowsAlertsSilencesAndConfig) {
  post("/api/v2/alerts",
       R"([{"labels":{"alertname":"HostDown","system":"payments","severity":"critical"}},
           {"labels":{"alertname":"SlowQueries","system":"ledger","severity":"warning"}}])");
  post("/api/v2/silences",
       R"({"matchers":[{"name":"system","value":"billing","isRegex":false,"isEqual":true}],
           "startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z",
           "createdBy":"test","comment":"maintenance window"})");
  ASSERT_TRUE(testing::waitFor(
      [&] {
        collect();
        return facts_["payments alerting.alertmanager.alerts_active"] == Value(1) &&
               facts_["ledger alerting.alertmanager.alerts_active"] == Value(1);
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(fact("billing", "alerts_active"), Value(0));
  // A warning of ledger is active now: the inhibit rule can mute it (a critical alert of
  // ledger would). payments' alerts (a critical one) it cannot.
  EXPECT_EQ(fact("ledger", "inhibit_rules"), Value(1));
  EXPECT_EQ(fact("payments", "inhibit_rules"), Value(0));
  EXPECT_EQ(fact("billing", "silences_active"), Value(1));
  EXPECT_EQ(fact("payments", "silences_active"), Value(0));

  // Remove the e-mail integration of the payments receiver and reload.
  std::string changed = kConfig;
  auto pos = changed.find("    email_configs:");
  changed.erase(pos, changed.find('\n', pos) - pos + 1);
  dir_.write("alertmanager.yml", changed);
  post("/-/reload", "");
  collect();
  EXPECT_EQ(fact("payments", "integration_types"), Value(StringList{"webhook"}));

  am_->stop();
  collect(/*expect_ok=*/false);
}

}  // namespace
}  // namespace opsm
