// Regressions end to end in the agent: an exec plugin's evidence changes so that a criterion
// fails (a regression, counted and explained), then the plugin breaks (a collector outage:
// stale evidence, scores held, no regression), then its evidence expires (the level drops to
// unknown criteria: a level change, still no regression).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "agent/exposition/routes.h"
#include "tests/support/drill_pack.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

class RegressionAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    dir_.write("attestations.yaml",
               "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
               "    attested_by: Li Wei\n    document: https://wiki.example.com/crisis-org\n"
               "    date: " + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: true\n");
    drill(100);
    testing::drillRulePack(dir_);  // 6.7.4/L1/1 decided by the drill plugin
    start("export_item_progress: true\n");  // for the level change timestamps
  }

  // (Re)starts the agent; `extra` is more top-level config.
  void start(const std::string& extra) {
    agent_.reset();
    auto config = loadConfig(
        dir_.write("agent.yml", "rules_dir: rules\nattestations_file: attestations.yaml\n" +
                                    extra + "systems: [payments]\ncollectors:\n"
                                    "  - {name: drills, type: exec, interval: 1m, ttl: 5m,\n"
                                    "     command: [cat, " + (dir_.path() / "facts.json").string() + "]}\n"),
        registry_);
    ASSERT_TRUE(config) << config.error().message;
    auto a = Agent::create(std::move(*config));
    ASSERT_TRUE(a) << a.error().message;
    agent_ = std::move(*a);
    agent_->setClock([this] { return now_; });
  }

  void drill(double age_seconds) {
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": " +
                                 std::to_string(age_seconds) + "}]}");
  }
  int level() {
    for (const auto& s : agent_->scores()) {
      for (const auto& i : s.items) {
        if (s.system == "payments" && i.item == "6.7.4") return i.level;
      }
    }
    return -1;
  }
  bool metric(const std::string& line) {
    return renderMetrics(*agent_).find(line) != std::string::npos;
  }

  collectors::Registry registry_;
  testing::TempDir dir_;
  std::unique_ptr<Agent> agent_;
  TimePoint now_ = Clock::now();
};

TEST_F(RegressionAgentTest, AFailingCriterionIsARegressionAnOutageIsNot) {
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  ASSERT_EQ(level(), 1);
  EXPECT_TRUE(metric("opsmaturity_evidence_stale_ratio{system=\"payments\"} 0"));

  // One poll says the last drill is two years old, the next that it is recent again (a
  // source's odd answer, e.g. just after its restart): with regression_hysteresis 2 (the
  // default) that is no regression, however often the agent rescores in between.
  drill(2 * 366 * 86400.0);
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  for (int i = 0; i < 3; ++i) agent_->rescore();
  EXPECT_EQ(level(), 0);
  EXPECT_TRUE(agent_->regressions().empty());
  drill(100);
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  EXPECT_EQ(level(), 1);
  EXPECT_TRUE(agent_->regressions().empty());

  // Two successful polls say so: 6.7.4/L1/1 fails and the item drops to level 0, a regression.
  drill(2 * 366 * 86400.0);
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  EXPECT_TRUE(agent_->regressions().empty());
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  EXPECT_EQ(level(), 0);
  auto regressions = agent_->regressions();
  ASSERT_EQ(regressions.size(), 1u);
  EXPECT_EQ(regressions[0].item, "6.7.4");
  EXPECT_EQ(regressions[0].old_level, 1);
  ASSERT_EQ(regressions[0].flipped.size(), 1u);
  EXPECT_EQ(regressions[0].flipped[0].first, "6.7.4/L1/1");
  EXPECT_NE(regressions[0].flipped[0].second.find("plugin.drill.last_report_age_seconds"),
            std::string::npos);
  EXPECT_TRUE(metric("opsmaturity_item_regressions_total{item=\"6.7.4\",system=\"payments\"} 1"))
      << renderMetrics(*agent_);
  EXPECT_TRUE(metric("opsmaturity_item_level_change_timestamp_seconds{item=\"6.7.4\",system=\"payments\"}"));

  // A new drill: back to level 1, a change up.
  drill(3600);
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  EXPECT_EQ(level(), 1);

  // The plugin breaks: the poll fails, the evidence is held and marked stale, no regression.
  std::filesystem::remove(dir_.path() / "facts.json");
  now_ += std::chrono::minutes(1);
  EXPECT_FALSE(agent_->poll(0).ok);
  agent_->rescore();
  EXPECT_EQ(level(), 1);
  EXPECT_TRUE(metric("opsmaturity_evidence_stale_ratio{system=\"payments\"} 1"));

  // Past the TTL the evidence expires: the criterion is unknown, the level drops, and it is
  // still not a regression.
  now_ += std::chrono::minutes(10);
  agent_->rescore();
  EXPECT_EQ(level(), 0);
  EXPECT_EQ(agent_->regressions().size(), 1u);
  EXPECT_TRUE(metric("opsmaturity_item_regressions_total{item=\"6.7.4\",system=\"payments\"} 1"));
}

// An explanation is of a named generation: at its time, on the evidence it scored. Time
// passing without a scoring does not change it; a poll that changed the system is scored
// first, and the explanation names the snapshot that holds it.
TEST_F(RegressionAgentTest, AnExplanationIsOfTheSnapshotItNames) {
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  auto criterion = [](const ExplainedScore& e) {
    for (const auto& i : e.items) {
      for (const auto& c : i.criteria) {
        if (c.criterion->id == "6.7.4/L1/1") return c;
      }
    }
    return scorer::CriterionResult{};
  };
  const uint64_t first = agent_->snapshot()->generation;
  auto e = agent_->explainedScore("payments");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->generation, first);
  EXPECT_EQ(criterion(*e).state, scorer::CriterionState::kPass);
  ASSERT_NE(e->evidenceOf("plugin.drill.last_report_age_seconds"), nullptr);

  // Past the TTL by the clock, not scored yet: the snapshot still says level 1, and so does
  // its explanation (scored by the live store now, it would be unknown).
  now_ += std::chrono::minutes(10);
  e = agent_->explainedScore("payments");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->generation, first);
  EXPECT_EQ(criterion(*e).state, scorer::CriterionState::kPass) << criterion(*e).reason;
  EXPECT_EQ(level(), 1);

  // A poll that fails the drill, not scored yet: the explanation scores it first and names
  // the snapshot that holds it.
  drill(63244800);
  ASSERT_TRUE(agent_->poll(0).ok);
  e = agent_->explainedScore("payments");
  ASSERT_TRUE(e);
  EXPECT_GT(e->generation, first);
  EXPECT_EQ(e->generation, agent_->snapshot()->generation);
  EXPECT_EQ(criterion(*e).state, scorer::CriterionState::kFail) << criterion(*e).reason;
  EXPECT_EQ(e->evidenceOf("plugin.drill.last_report_age_seconds")->value, scorer::Value(63244800.0));
  for (const auto& i : e->items) {
    const SystemView* view = agent_->snapshot()->find("payments");
    ASSERT_NE(view, nullptr);
    for (const auto& v : view->items) {
      if (v.item == i.item) {
        EXPECT_EQ(v.level, i.level) << i.item << ": the snapshot's level";
      }
    }
  }

  // The API's page of the system names the generation it explains, here one scored for it.
  drill(100);
  ASSERT_TRUE(agent_->poll(0).ok);
  const uint64_t before = agent_->snapshot()->generation;
  HttpReply page = route(*agent_, HttpRequest{"GET", "/api/v1/systems/payments", {}, ""});
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_GT(agent_->snapshot()->generation, before);
  EXPECT_NE(page.body.find("\"generation\":" + std::to_string(agent_->snapshot()->generation) + ","),
            std::string::npos)
      << page.body.substr(0, 200);
}

// A drop seen once (waiting for hysteresis) when the agent restarts is judged against the
// level before it: the baseline kept is the tracker's, not the score of the moment. A restart
// in the middle neither hides the regression nor reports it early.
TEST_F(RegressionAgentTest, ARestartDuringHysteresisNeitherHidesNorHastensARegression) {
  start("storage_path: state.db\n");
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  ASSERT_EQ(level(), 1);
  drill(2 * 366 * 86400.0);
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  ASSERT_EQ(level(), 0);
  ASSERT_TRUE(agent_->regressions().empty());

  start("storage_path: state.db\n");
  // The restored evidence, before any poll, is still the one poll that saw the drop, however
  // often the agent rescores.
  for (int i = 0; i < 3; ++i) agent_->rescore();
  EXPECT_EQ(level(), 0);
  EXPECT_TRUE(agent_->regressions().empty());
  // The second poll that sees it confirms it, as without the restart.
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  auto regressions = agent_->regressions();
  ASSERT_EQ(regressions.size(), 1u);
  EXPECT_EQ(regressions[0].old_level, 1);
  ASSERT_EQ(regressions[0].flipped.size(), 1u);
  EXPECT_EQ(regressions[0].flipped[0].first, "6.7.4/L1/1");
}

// A published snapshot is immutable and keeps the rule pack its scores point into: a reader
// holding one across a reload reads what was scored then (under ASan, a freed pack would be a
// use after free), and the next scoring publishes a new one on the new pack.
TEST_F(RegressionAgentTest, ASnapshotOutlivesAReloadOfTheRulePack) {
  EXPECT_EQ(agent_->snapshot()->generation, 0u);
  EXPECT_TRUE(agent_->snapshot()->scores.empty());
  ASSERT_TRUE(agent_->poll(0).ok);
  agent_->rescore();
  const auto before = agent_->snapshot();
  ASSERT_EQ(before->generation, 1u);
  ASSERT_TRUE(agent_->reload("test"));
  const auto after = agent_->snapshot();
  EXPECT_GT(after->generation, before->generation);
  EXPECT_NE(after->pack.get(), before->pack.get());
  EXPECT_EQ(agent_->rules().get(), after->pack.get());
  int checked = 0;
  for (const auto& s : before->scores) {
    for (const auto& item : s->items) {
      for (const auto& c : item.criteria) {
        EXPECT_EQ(c.criterion->id.rfind(item.item + "/L", 0), 0u) << c.criterion->id;
        ++checked;
      }
      if (item.item == "6.7.4") {
        EXPECT_EQ(item.level, 1);
      }
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(RegressionConfig, HysteresisMustBeAWholeNumber) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  auto c = loadConfig(dir.write("agent.yml", "rules_dir: r\nregression_hysteresis: 0.5\n"
                                             "collectors: [{type: file, path: f}]\n"),
                      registry);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yml:2: field 'regression_hysteresis'"), std::string::npos)
      << c.error().message;
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

TEST(EvidenceTtl, PerKeyAndPrefixOverridesTheCollectorTtl) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  dir.write("facts.yaml", "facts:\n  - {system: p, key: file.backup.age, value: 1}\n"
                          "  - {system: p, key: file.backup.count, value: 2}\n"
                          "  - {system: p, key: file.other, value: 3}\n");
  auto config = loadConfig(
      dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                 "/rules\nevidence_ttl: {file.: 1h, file.backup.count: 2d}\n"
                                 "collectors: [{type: file, path: facts.yaml, ttl: 10m}]\n"),
      registry);
  ASSERT_TRUE(config) << config.error().message;
  auto a = Agent::create(std::move(*config));
  ASSERT_TRUE(a);
  ASSERT_TRUE((*a)->poll(0).ok);
  auto ttl = [&](const std::string& key) {
    auto e = (*a)->evidence().find("p", key);
    return std::chrono::duration_cast<std::chrono::minutes>(e->expires_at - e->observed_at).count();
  };
  EXPECT_EQ(ttl("file.backup.age"), 60);
  EXPECT_EQ(ttl("file.backup.count"), 2 * 24 * 60);
  EXPECT_EQ(ttl("file.other"), 60);

  auto bad = loadConfig(dir.write("bad.yml", "rules_dir: r\nevidence_ttl: {backup.: 2}\n"
                                             "collectors: [{type: file, path: f}]\n"),
                        registry);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.yml:2: field 'evidence_ttl.backup.'"), std::string::npos)
      << bad.error().message;
}

}  // namespace
}  // namespace opsm::agent
