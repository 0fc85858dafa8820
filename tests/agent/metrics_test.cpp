#include "agent/core/metrics.h"

#include <gtest/gtest.h>

#include <map>

namespace opsm::agent {
namespace {

scorer::SystemScore system(const std::string& name, int level) {
  scorer::SystemScore s;
  s.system = name;
  s.level = level;
  s.progress = level + 0.5;
  scorer::ItemScore item;
  item.item = "6.1.3";
  item.domain = "6.1";
  item.level = level;
  item.progress = level + 0.5;
  s.items.push_back(item);
  s.domains.push_back(scorer::DomainScore{"6.1", static_cast<double>(level), level + 0.5, 1});
  return s;
}

TEST(MetricsTest, ScoresAreExportedAndVanishedSystemsRemoved) {
  auto model = scorer::loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  ASSERT_TRUE(model.ok());
  Metrics m(*model);
  m.setExportItemProgress(true);
  m.setScores({system("payments", 2), system("billing", 1)});
  std::string text = m.render();
  EXPECT_NE(text.find("opsmaturity_item_level{domain=\"6.1\",item=\"6.1.3\",system=\"payments\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("opsmaturity_item_progress{domain=\"6.1\",item=\"6.1.3\",system=\"billing\"} 1.5"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_domain_level{domain=\"6.1\",system=\"billing\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_system_level{system=\"payments\"} 2"), std::string::npos);
  EXPECT_NE(text.find("# TYPE opsmaturity_item_level gauge"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_item_info{domain=\"6.9\",domain_en=\"Operational quality and "
                      "efficiency\",domain_zh=\"运行质效\",item=\"6.9.9\",name_en=\"System "
                      "profile\",name_zh=\"系统画像\"} 1"),
            std::string::npos)
      << text;

  m.setScores({system("payments", 3)});
  text = m.render();
  EXPECT_EQ(text.find("system=\"billing\""), std::string::npos) << "billing series are removed";
  EXPECT_NE(text.find("opsmaturity_system_level{system=\"payments\"} 3"), std::string::npos);
}

// updateScores merges a scoring's rows into the estate's, in place for a few systems and by a
// full merge for many: either way /metrics is what setScores of the whole estate gives, with
// the regression counters carried over.
TEST(MetricsTest, UpdatedRowsAreTheWholeEstatesRowsInPlaceOrMerged) {
  auto model = scorer::loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  ASSERT_TRUE(model.ok());
  Metrics updated(*model), whole(*model);
  std::map<std::string, scorer::SystemScore> estate;
  auto name = [](int k) { return "sys-" + std::to_string(1000 + k); };
  auto update = [&](const std::vector<int>& levels_of, const std::vector<int>& removed) {
    std::vector<scorer::SystemScore> scores;
    std::vector<std::string> gone;
    for (size_t k = 0; k < levels_of.size(); k += 2) {
      scores.push_back(system(name(levels_of[k]), levels_of[k + 1]));
      estate[name(levels_of[k])] = scores.back();
    }
    for (int k : removed) {
      gone.push_back(name(k));
      estate.erase(name(k));
    }
    std::vector<const scorer::SystemScore*> rows;
    for (const auto& s : scores) rows.push_back(&s);
    updated.updateScores(rows, gone);
    std::vector<scorer::SystemScore> all;
    for (const auto& [_, s] : estate) all.push_back(s);
    whole.setScores(all);
  };
  std::vector<int> many;
  for (int k = 0; k < 200; k += 2) many.insert(many.end(), {k, k % 5});
  update(many, {});  // 100 systems: merged
  updated.regressed(name(10), "6.1.3");
  whole.regressed(name(10), "6.1.3");
  EXPECT_EQ(updated.render(), whole.render());
  update({10, 4, 11, 3, 199, 1, 300, 2}, {0, 2});  // a few, new ones among them: in place
  EXPECT_EQ(updated.render(), whole.render());
  EXPECT_NE(updated.render().find("opsmaturity_system_level{system=\"sys-1011\"} 3"),
            std::string::npos);
  EXPECT_EQ(updated.render().find("system=\"sys-1000\""), std::string::npos);
  std::vector<int> most;
  for (int k = 1; k < 160; k += 2) most.insert(most.end(), {k, (k + 1) % 5});
  update(most, {4, 6, 8});  // 80 systems: merged
  EXPECT_EQ(updated.render(), whole.render());
  EXPECT_NE(updated.render().find("opsmaturity_item_regressions_total{item=\"6.1.3\",system=\"sys-1010\"} 1"),
            std::string::npos)
      << "the counter is carried over both ways";
}

TEST(MetricsTest, CollectorSeries) {
  auto model = scorer::loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  ASSERT_TRUE(model.ok());
  Metrics m(*model);
  m.collectorDeclared("prom");
  std::string text = m.render();
  EXPECT_NE(text.find("opsmaturity_collector_up{collector=\"prom\"} 0"), std::string::npos)
      << "a collector not yet polled is not up";
  m.collectorPolled("prom", true, 0.25, TimePoint(std::chrono::seconds(1800000000)), 42);
  m.collectorPolled("prom", false, 5.0, TimePoint(std::chrono::seconds(1800000060)), 0);
  text = m.render();
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
