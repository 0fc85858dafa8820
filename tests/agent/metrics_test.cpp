#include "agent/exposition/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "scorer/rules.h"

namespace opsm::agent {
namespace {

std::shared_ptr<const SystemView> system(const std::string& name, int level, uint64_t regressions = 0) {
  auto s = std::make_shared<SystemView>();
  s->system = name;
  s->level = level;
  s->progress = level + 0.5;
  scorer::ItemScore item;
  item.item = "6.1.3";
  item.domain = "6.1";
  item.level = level;
  item.progress = level + 0.5;
  s->items.push_back(item);
  s->records.resize(1);
  s->records[0].regressions = regressions;
  s->domains.push_back(scorer::DomainScore{"6.1", static_cast<double>(level), level + 0.5, 1});
  return s;
}

Snapshot snapshotOf(std::vector<std::shared_ptr<const SystemView>> scores) {
  auto model = scorer::loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  EXPECT_TRUE(model.ok());
  auto pack = std::make_shared<scorer::RulePack>();
  if (model.ok()) pack->model = *model;
  Snapshot snap;
  snap.pack = pack;
  snap.scores = std::move(scores);
  snap.regressions = std::make_shared<const std::vector<scorer::RegressionEvent>>();
  snap.ledger = std::make_shared<const LedgerView>();
  snap.generation = 7;
  return snap;
}

TEST(MetricsTest, ASnapshotsScoresAreExportedAndNothingElse) {
  MetricsContext ctx;
  ctx.export_item_progress = true;
  std::string text = renderMetrics(snapshotOf({system("billing", 1), system("payments", 2, 3)}), ctx);
  EXPECT_NE(text.find("opsmaturity_item_level{domain=\"6.1\",item=\"6.1.3\",system=\"payments\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("opsmaturity_item_progress{domain=\"6.1\",item=\"6.1.3\",system=\"billing\"} 1.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_domain_level{domain=\"6.1\",system=\"billing\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_system_level{system=\"payments\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_item_regressions_total{item=\"6.1.3\",system=\"payments\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_item_regressions_total{item=\"6.1.3\",system=\"billing\"} 0\n"),
            std::string::npos)
      << "a counter exists at 0 for every scored item";
  EXPECT_NE(text.find("# TYPE opsmaturity_item_level gauge\n"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_snapshot_generation 7\n"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_item_info{domain=\"6.9\",domain_en=\"Operational quality and "
                      "efficiency\",domain_zh=\"运行质效\",item=\"6.9.9\",name_en=\"System "
                      "profile\",name_zh=\"系统画像\"} 1"),
            std::string::npos)
      << text;

  text = renderMetrics(snapshotOf({system("payments", 3)}), ctx);
  EXPECT_EQ(text.find("system=\"billing\""), std::string::npos) << "billing is not in the snapshot";
  EXPECT_NE(text.find("opsmaturity_system_level{system=\"payments\"} 3"), std::string::npos);
  ctx.export_item_progress = false;
  text = renderMetrics(snapshotOf({system("payments", 3)}), ctx);
  EXPECT_EQ(text.find("opsmaturity_item_progress"), std::string::npos) << "opt-in";
}

// Every family has its HELP and TYPE once, before its samples, and every sample line names a
// family declared above it: the text format a Prometheus scrape accepts.
TEST(MetricsTest, EverySampleBelongsToTheFamilyDeclaredBeforeIt) {
  MetricsContext ctx;
  ctx.export_criteria_states = ctx.export_item_dimensions = ctx.export_item_progress = true;
  auto snap = snapshotOf({system("a\"b\\c", 1), system("payments", 2)});
  CollectorHealth prom;
  prom.name = "prom";
  snap.collectors.push_back(prom);
  const std::string text = renderMetrics(snap, ctx);
  std::istringstream lines(text);
  std::string line, family;
  std::set<std::string> seen;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(seen.insert(family).second) << family << " declared twice";
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name, family) << line;
  }
  EXPECT_NE(text.find("system=\"a\\\"b\\\\c\""), std::string::npos) << "label values escaped";
}

TEST(MetricsTest, CollectorSeriesComeFromTheSnapshotsHealth) {
  auto snap = snapshotOf({});
  CollectorHealth h;
  h.name = "prom";
  snap.collectors = {h};
  std::string text = renderMetrics(snap, {});
  EXPECT_NE(text.find("opsmaturity_collector_up{collector=\"prom\"} 0"), std::string::npos)
      << "a collector not yet polled is not up";
  EXPECT_EQ(text.find("opsmaturity_collector_duration_seconds{"), std::string::npos)
      << "no duration before a poll";
  h.polled = true;
  h.up = false;
  h.duration_seconds = 5;
  h.last_success = TimePoint(std::chrono::seconds(1800000000));
  h.facts = 42;
  h.successes = 1;
  h.failures = 1;
  snap.collectors = {h};
  text = renderMetrics(snap, {});
  EXPECT_NE(text.find("opsmaturity_collector_up{collector=\"prom\"} 0"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_collector_duration_seconds{collector=\"prom\"} 5"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_collector_last_success_timestamp_seconds{collector=\"prom\"} "
                      "1800000000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("opsmaturity_collector_failures_total{collector=\"prom\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_collector_facts{collector=\"prom\"} 42"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_build_info{revision="), std::string::npos);
}

}  // namespace
}  // namespace opsm::agent
