// End to end on a real Prometheus: the test starts Prometheus and node_exporter on free
// loopback ports with a config it writes, runs the agent against them, and checks the
// evidence against what that config implies.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "agent/core/config.h"
#include "agent/daemon/daemon.h"
#include "collectors/collector.h"
#include "tests/integration/prometheus_stack.h"

namespace opsm {
namespace {

using scorer::Value;

class PrometheusAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err = stack_.start();
    ASSERT_EQ(err, "");
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    std::string config = R"(listen_address: 127.0.0.1:0
rules_dir: RULES
collectors:
  - name: prom
    type: prometheus
    url: URL
    interval: 5s
    timeout: 5s
  - name: am
    type: alertmanager
    url: AMURL
    prometheus_url: URL
    systems_from: [prom]
systems: [ghost]
attestations_file: attestations.yaml
)";
    // Incidents at payments are not found mainly through people's reports: with that
    // attested, 6.2.1 reaches level 1 on the server's alerting rules and node metrics.
    stack_.dir().write("attestations.yaml",
                       "attestations:\n  - system: payments\n    criterion: 6.2.1/L1/1\n"
                       "    attested_by: Li Wei\n    document: https://wiki.example.com/oncall\n"
                       "    date: " + formatTime(Clock::now() - std::chrono::hours(24)).substr(0, 10) +
                       "\n    met: true\n");
    config = std::regex_replace(config, std::regex("RULES"), std::string(OPSM_SOURCE_DIR) + "/rules");
    config = std::regex_replace(config, std::regex("AMURL"), stack_.alertmanagerUrl());
    config = std::regex_replace(config, std::regex("URL"), stack_.prometheusUrl());
    config_path_ = stack_.dir().write("opsmaturity.yml", config);
    auto cfg = agent::loadConfig(config_path_, registry_);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto a = agent::Agent::create(std::move(*cfg));
    ASSERT_TRUE(a.ok()) << a.error().message;
    agent_ = std::move(*a);
  }

  Value evidence(const std::string& system, const std::string& key) {
    auto e = agent_->evidence().find(system, "monitoring.prometheus." + key);
    EXPECT_TRUE(e.has_value()) << system << " " << key;
    return e ? e->value : Value("<missing>");
  }

  const scorer::ItemScore* item(const std::string& system, const std::string& id) {
    for (const auto& s : scores_) {
      if (s.system != system) continue;
      for (const auto& i : s.items) {
        if (i.item == id) return &i;
      }
    }
    ADD_FAILURE() << "no score for " << system << " " << id;
    return nullptr;
  }

  // Polls Prometheus (collector 0) and the Alertmanager (1), and scores.
  void pollAndScore(bool expect_ok = true) {
    auto out = agent_->poll(0);
    EXPECT_EQ(out.ok, expect_ok) << out.error;
    if (expect_ok) {
      auto am = agent_->poll(1);
      EXPECT_TRUE(am.ok) << am.error;
    }
    agent_->rescore();
    scores_ = agent_->scores();
  }

  testing::PrometheusStack stack_;
  collectors::Registry registry_;
  std::string config_path_;
  std::unique_ptr<agent::Agent> agent_;
  std::vector<scorer::SystemScore> scores_;
};

TEST_F(PrometheusAgentTest, EvidenceEqualsWhatTheConfigImplies) {
  pollAndScore();
  // Targets: one per system, all up.
  EXPECT_EQ(evidence("payments", "targets_total"), Value(1));
  EXPECT_EQ(evidence("payments", "targets_up"), Value(1));
  EXPECT_EQ(evidence("payments", "targets_up_ratio"), Value(1.0));
  EXPECT_EQ(evidence("monitoring", "targets_total"), Value(1));
  // Only the node_exporter target exposes node-level resource metrics.
  EXPECT_EQ(evidence("payments", "node_metrics_scraped"), Value(true));
  EXPECT_EQ(evidence("monitoring", "node_metrics_scraped"), Value(false));
  // Rules: payments has its 2 alerting rules; the unlabelled `up == 0` watches no system in
  // particular (the platform's: a hint, never a system's rule).
  EXPECT_EQ(evidence("payments", "alerting_rules"), Value(2));
  EXPECT_EQ(evidence("monitoring", "alerting_rules"), Value(0));
  EXPECT_EQ(evidence("payments", "unscoped_alerting_rules"), Value(1));
  EXPECT_EQ(evidence("payments", "alert_severities"),
            Value(scorer::StringList{"critical", "warning"}));
  EXPECT_EQ(evidence("monitoring", "alert_severities"), Value(scorer::StringList{}));
  EXPECT_EQ(evidence("payments", "alerting_rules_with_runbook_ratio"), Value(1.0));
  EXPECT_FALSE(agent_->evidence().find("monitoring", "monitoring.prometheus.alerting_rules_with_runbook_ratio"));
  // the one recording rule reads job "node": payments'
  EXPECT_EQ(evidence("payments", "recording_rules"), Value(1));
  EXPECT_EQ(evidence("monitoring", "recording_rules"), Value(0));
  EXPECT_EQ(evidence("payments", "alertmanagers_active"), Value(1));
  EXPECT_EQ(evidence("payments", "remote_write_configured"), Value(false));
  EXPECT_EQ(evidence("payments", "scrape_interval_seconds"), Value(1.0));
  EXPECT_EQ(evidence("payments", "storage_retention_seconds"), Value(15 * 86400.0))
      << "Prometheus's default retention is 15d";
  EXPECT_EQ(evidence("payments", "query_api_ok"), Value(true));
  // Signals and alert topics, from the real server: node_exporter gives "node"; payments'
  // rules watch up == 0 and CPU; monitoring has none of its own.
  EXPECT_EQ(evidence("payments", "signals"), Value(scorer::StringList{"node"}));
  EXPECT_EQ(evidence("monitoring", "signals"), Value(scorer::StringList{}));
  EXPECT_EQ(evidence("payments", "alert_topics"),
            Value(scorer::StringList{"capacity", "target_down"}));
  EXPECT_EQ(evidence("monitoring", "alert_topics"), Value(scorer::StringList{}));
  EXPECT_EQ(evidence("payments", "targets_https_ratio"), Value(0.0));
  EXPECT_EQ(evidence("payments", "service_discovery"), Value(scorer::StringList{}));
  auto series = evidence("payments", "tsdb_head_series");
  ASSERT_TRUE(series.isNumber());
  EXPECT_GT(series.asNumber(), 0);

  auto source = agent_->evidence().find("payments", "monitoring.prometheus.targets_total");
  ASSERT_TRUE(source.has_value());
  EXPECT_EQ(source->source.collector, "prom");
  EXPECT_EQ(source->source.locator, stack_.prometheusUrl() + "/api/v1/targets?state=active");
  EXPECT_GT(source->expires_at, source->observed_at);

  // 6.1.3 数据存储: level 1 (own data store) reached; unified storage (L2/1) needs an
  // attestation, which is shown the server's remote_write setting as supporting evidence.
  const auto* storage = item("payments", "6.1.3");
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->level, 1);
  EXPECT_EQ(storage->criteria[1].criterion->id, "6.1.3/L2/1");
  EXPECT_EQ(storage->criteria[1].state, scorer::CriterionState::kUnknown);
  auto explained = agent_->explainedScore("payments");
  ASSERT_TRUE(explained.has_value());
  for (const auto& i : explained->items) {
    if (i.item != "6.1.3") continue;
    EXPECT_NE(i.criteria[1].reason.find(
                  "monitoring.remote_storage = false (prom via "
                  "monitoring.prometheus.remote_write_configured)"),
              std::string::npos)
        << i.criteria[1].reason;
  }
  // 6.1.6 告警治理: payments' own rules, graded, sent to the Alertmanager, which routes them
  // to its e-mail and webhook receiver: level 1.
  const auto* alerts = item("payments", "6.1.6");
  ASSERT_NE(alerts, nullptr);
  EXPECT_EQ(alerts->criteria[0].state, scorer::CriterionState::kPass);
  EXPECT_EQ(alerts->criteria[1].state, scorer::CriterionState::kPass);
  EXPECT_EQ(alerts->criteria[2].state, scorer::CriterionState::kPass);
  EXPECT_EQ(alerts->level, 1);
  EXPECT_EQ(evidence("payments", "alertmanagers_active"), Value(1));
  // monitoring has no rule of its own, so no severity: 6.1.6/L1/2 fails there.
  const auto* mon_alerts = item("monitoring", "6.1.6");
  ASSERT_NE(mon_alerts, nullptr);
  EXPECT_EQ(mon_alerts->criteria[1].state, scorer::CriterionState::kFail);

  std::string metrics = renderMetrics(*agent_);
  EXPECT_NE(metrics.find("opsmaturity_item_level{domain=\"6.1\",item=\"6.1.3\",system=\"payments\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("opsmaturity_collector_up{collector=\"prom\"} 1"), std::string::npos);
}

TEST_F(PrometheusAgentTest, StoppedTargetChangesTheEvidence) {
  pollAndScore();
  ASSERT_EQ(evidence("payments", "targets_up"), Value(1));
  stack_.stopNodeExporter();
  ASSERT_TRUE(testing::waitFor([&] { return stack_.targetsWithHealth("down") == 1; },
                               std::chrono::seconds(30)))
      << "Prometheus never saw node_exporter down";
  pollAndScore();
  EXPECT_EQ(evidence("payments", "targets_total"), Value(1));
  EXPECT_EQ(evidence("payments", "targets_up"), Value(0));
  EXPECT_EQ(evidence("payments", "targets_up_ratio"), Value(0.0));
  EXPECT_EQ(evidence("monitoring", "targets_up"), Value(1));
}

TEST_F(PrometheusAgentTest, OutageSetsCollectorDownAndKeepsScores) {
  pollAndScore();
  auto before = scores_;
  ASSERT_FALSE(before.empty());
  stack_.stopPrometheus();
  pollAndScore(/*expect_ok=*/false);
  std::string metrics = renderMetrics(*agent_);
  EXPECT_NE(metrics.find("opsmaturity_collector_up{collector=\"prom\"} 0"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("opsmaturity_collector_failures_total{collector=\"prom\"} 1"),
            std::string::npos);
  ASSERT_EQ(scores_.size(), before.size());
  for (size_t s = 0; s < before.size(); ++s) {
    EXPECT_EQ(scores_[s].system, before[s].system);
    EXPECT_EQ(scores_[s].level, before[s].level);
    ASSERT_EQ(scores_[s].items.size(), before[s].items.size());
    for (size_t i = 0; i < before[s].items.size(); ++i) {
      EXPECT_EQ(scores_[s].items[i].level, before[s].items[i].level);
      EXPECT_EQ(scores_[s].items[i].progress, before[s].items[i].progress);
    }
  }
  EXPECT_EQ(evidence("payments", "targets_up"), Value(1)) << "the last evidence is kept";
}

// A system declared in the config and monitored by nothing: no criterion the agent collects
// evidence for passes, whatever the server offers its own systems; each says which source
// does not know it.
TEST_F(PrometheusAgentTest, ADeclaredSystemNoSourceKnowsPassesNoCollectedCriterion) {
  pollAndScore();
  auto ghost = agent_->explainedScore("ghost");
  ASSERT_TRUE(ghost.has_value());
  int collected = 0;
  for (const auto& item : ghost->items) {
    for (const auto& c : item.criteria) {
      if (c.criterion->attestation) continue;
      ++collected;
      EXPECT_NE(c.state, scorer::CriterionState::kPass) << c.criterion->id << ": " << c.reason;
      if (c.state == scorer::CriterionState::kUnknown &&
          c.reason.find("monitoring.prometheus.") != std::string::npos) {
        EXPECT_NE(c.reason.find("source prom (prometheus) does not know system ghost"),
                  std::string::npos)
            << c.criterion->id << ": " << c.reason;
      }
    }
    EXPECT_EQ(item.level, 0) << item.item;
  }
  EXPECT_GT(collected, 30);
  EXPECT_FALSE(agent_->knownToACollector("ghost"));
  EXPECT_TRUE(agent_->knownToACollector("payments"));
  EXPECT_NE(renderMetrics(*agent_).find("opsmaturity_collector_systems{collector=\"prom\"} 2"),
            std::string::npos);
}

// A system_label no target carries: the poll succeeds, matches nothing, and says so.
TEST_F(PrometheusAgentTest, ASystemLabelNoTargetCarriesIsLoud) {
  auto cfg = agent::loadConfig(
      stack_.dir().write("wrong-label.yml",
                         "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                             "/rules\nsystems: [payments]\ncollectors:\n"
                             "  - {name: prom, type: prometheus, url: " + stack_.prometheusUrl() +
                             ", system_label: team}\n"),
      registry_);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto a = agent::Agent::create(std::move(*cfg));
  ASSERT_TRUE(a.ok());
  auto out = (*a)->poll(0);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.systems, 0u);
  EXPECT_NE(out.warning.find("prom (prometheus) matched no system"), std::string::npos)
      << out.warning;
  (*a)->rescore();
  EXPECT_NE(renderMetrics(**a).find("opsmaturity_collector_systems{collector=\"prom\"} 0"),
            std::string::npos);
  auto payments = (*a)->explainedScore("payments");
  ASSERT_TRUE(payments.has_value());
  for (const auto& item : payments->items) {
    for (const auto& c : item.criteria) {
      EXPECT_NE(c.state, scorer::CriterionState::kPass) << c.criterion->id << ": " << c.reason;
    }
  }
}

// A real Prometheus restarted inside the evidence TTL: polled right away and often (not
// ready, targets not yet scraped), it causes no regression; the real removal of its alerting
// rules, seen in two polls, does.
TEST_F(PrometheusAgentTest, ARestartIsNoRegressionARemovalOfAlertRulesIs) {
  pollAndScore();
  pollAndScore();
  auto before = scores_;
  ASSERT_EQ(stack_.restartPrometheus(), "");
  int not_ready = 0, polls = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    auto out = agent_->poll(0);
    ++polls;
    if (!out.ok) {
      ++not_ready;
      EXPECT_NE(out.error.find("not ready"), std::string::npos) << out.error;
    }
    agent_->rescore();
    if (out.ok && stack_.targetsWithHealth("up") == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  scores_ = agent_->scores();
  EXPECT_TRUE(agent_->regressions().empty()) << agent_->regressions()[0].item;
  std::printf("restart: %d polls, %d not ready\n", polls, not_ready);
  ASSERT_EQ(scores_.size(), before.size());
  for (size_t s = 0; s < before.size(); ++s) {
    for (size_t i = 0; i < before[s].items.size(); ++i) {
      EXPECT_EQ(scores_[s].items[i].level, before[s].items[i].level)
          << before[s].system << " " << before[s].items[i].item;
    }
  }

  const auto* detection = item("payments", "6.2.1");
  ASSERT_NE(detection, nullptr);
  ASSERT_EQ(detection->level, 1) << "6.2.1 level 1 rests on the alerting rules";

  // The alerting rules go; only the recording rule stays.
  ASSERT_EQ(stack_.rewriteRules("groups:\n  - name: global\n    rules:\n"
                                "      - record: job:up:sum\n        expr: sum by (job) (up)\n",
                                "job:up:sum"),
            "");
  pollAndScore();
  EXPECT_TRUE(agent_->regressions().empty()) << "one poll is not yet a regression";
  pollAndScore();
  auto regressions = agent_->regressions();
  ASSERT_FALSE(regressions.empty());
  bool on_rules = false;
  for (const auto& r : regressions) {
    EXPECT_EQ(r.system, "payments");
    for (const auto& [id, reason] : r.flipped) {
      // what the rules were: their count, or what they watch (alert_topics)
      if (reason.find("monitoring.prometheus.alert") != std::string::npos) on_rules = true;
    }
  }
  EXPECT_TRUE(on_rules) << regressions[0].item << " " << regressions[0].flipped[0].second;
}

TEST_F(PrometheusAgentTest, DaemonServesMetricsAndReadiness) {
  agent::Daemon daemon(*agent_);
  ASSERT_TRUE(daemon.start().ok());
  std::thread runner([&] { daemon.run(/*handle_signals=*/false); });
  collectors::HttpClient http{collectors::HttpOptions{}};
  std::string base = "http://127.0.0.1:" + std::to_string(daemon.port());
  auto healthy = http.get(base + "/-/healthy", std::chrono::seconds(2));
  EXPECT_TRUE(healthy.ok());
  EXPECT_TRUE(testing::waitFor(
      [&] { return http.get(base + "/-/ready", std::chrono::seconds(2)).ok(); },
      std::chrono::seconds(20)));
  auto metrics = http.get(base + "/metrics", std::chrono::seconds(2));
  ASSERT_TRUE(metrics.ok()) << metrics.error().message;
  EXPECT_NE(metrics->headers["content-type"].find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics->body.find("opsmaturity_system_level{system=\"payments\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("opsmaturity_collector_last_success_timestamp_seconds{collector=\"prom\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("opsmaturity_build_info{"), std::string::npos);
  auto missing = http.get(base + "/nope", std::chrono::seconds(2));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos);
  daemon.stop();
  runner.join();
}

}  // namespace
}  // namespace opsm
