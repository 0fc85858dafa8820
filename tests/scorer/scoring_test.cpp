#include "scorer/scoring.h"

#include <gtest/gtest.h>

namespace opsm::scorer {
namespace {

using std::chrono::hours;
const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

// Builds an item whose criterion i of level L passes when evidence "Lx.i" is true, fails
// when false, and is unknown when absent.
ItemRules makeItem(const std::string& id, const std::string& domain,
                   std::array<int, kLevels> counts, bool level5_same_as = false) {
  ItemRules item;
  item.item = id;
  item.domain = domain;
  for (int l = 1; l <= kLevels; ++l) {
    LevelRules& lr = item.levels[l - 1];
    lr.level = l;
    if (l == 5 && level5_same_as) {
      lr.same_as_previous = true;
      continue;
    }
    for (int i = 1; i <= counts[l - 1]; ++i) {
      Criterion c;
      c.id = id + "/L" + std::to_string(l) + "/" + std::to_string(i);
      c.level = l;
      std::string key = id + ".L" + std::to_string(l) + "." + std::to_string(i);
      c.when = *compileCondition("t.yaml", YAML::Load("{key: \"" + key + "\", eq: true}"));
      c.applies_to = *compileCondition(
          "t.yaml", YAML::Load("{not: {exists: \"" + key + ".na\"}}"));
      lr.criteria.push_back(std::move(c));
    }
  }
  return item;
}

class ScoringTest : public ::testing::Test {
 protected:
  void set(const std::string& key, bool v) {
    Evidence e;
    e.key = key;
    e.value = v;
    e.observed_at = kNow;
    e.expires_at = kNow + hours(1);
    evidence_[key] = e;
  }
  // Sets criteria 1..n of `item` level `level` to `v`.
  void setLevel(const std::string& item, int level, int n, bool v) {
    for (int i = 1; i <= n; ++i) {
      set(item + ".L" + std::to_string(level) + "." + std::to_string(i), v);
    }
  }
  ItemScore score(const ItemRules& item, ScoringConfig config = {}) {
    EvalContext ctx{evidence_, kNow};
    return scoreItem(item, ctx, config);
  }
  std::map<std::string, Evidence> evidence_;
};

TEST_F(ScoringTest, NothingKnownIsLevelZero) {
  auto s = score(makeItem("6.1.1", "6.1", {1, 2, 2, 1, 1}));
  EXPECT_EQ(s.level, 0);
  EXPECT_DOUBLE_EQ(s.progress, 0.0);
  EXPECT_EQ(s.tally[0].unknown, 1);
  EXPECT_EQ(s.criteria.size(), 7u);
}

TEST_F(ScoringTest, LevelIsHighestWithAllLowerLevelsPassed) {
  auto item = makeItem("6.1.1", "6.1", {1, 2, 2, 1, 1});
  setLevel("6.1.1", 1, 1, true);
  setLevel("6.1.1", 2, 2, true);
  set("6.1.1.L3.1", true);
  set("6.1.1.L3.2", false);
  setLevel("6.1.1", 4, 1, true);  // level 4 passes but level 3 does not: no skipping
  auto s = score(item);
  EXPECT_EQ(s.level, 2);
  EXPECT_DOUBLE_EQ(s.progress, 2.5);
}

TEST_F(ScoringTest, UnknownBlocksALevelButIsCountedSeparately) {
  auto item = makeItem("6.1.1", "6.1", {2, 1, 1, 1, 1});
  set("6.1.1.L1.1", true);  // 6.1.1.L1.2 unknown
  auto s = score(item);
  EXPECT_EQ(s.level, 0);
  EXPECT_DOUBLE_EQ(s.progress, 0.5);
  EXPECT_EQ(s.tally[0].passed, 1);
  EXPECT_EQ(s.tally[0].unknown, 1);
  EXPECT_EQ(s.tally[0].failed, 0);
}

TEST_F(ScoringTest, NotApplicableCountsAsPassed) {
  auto item = makeItem("6.9.2", "6.9", {2, 1, 1, 1, 1});
  set("6.9.2.L1.1", true);
  set("6.9.2.L1.2.na", true);  // front-end only, and this system is not front-end
  auto s = score(item);
  EXPECT_EQ(s.level, 1);
  EXPECT_EQ(s.tally[0].not_applicable, 1);
  EXPECT_EQ(s.criteria[1].state, CriterionState::kNotApplicable);
}

TEST_F(ScoringTest, SameAsLevel4AddsNothingAtLevel5) {
  auto item = makeItem("6.2.5", "6.2", {1, 1, 1, 1, 0}, /*level5_same_as=*/true);
  for (int l = 1; l <= 3; ++l) setLevel("6.2.5", l, 1, true);
  auto s = score(item);
  EXPECT_EQ(s.level, 3);
  EXPECT_DOUBLE_EQ(s.progress, 3.0);
  setLevel("6.2.5", 4, 1, true);
  s = score(item);
  EXPECT_EQ(s.level, 5) << "reaching level 4 reaches a 同4级 level 5";
  EXPECT_DOUBLE_EQ(s.progress, 5.0);
}

TEST_F(ScoringTest, AllLevelsPassedIsFive) {
  auto item = makeItem("6.1.1", "6.1", {1, 1, 1, 1, 2});
  for (int l = 1; l <= 5; ++l) setLevel("6.1.1", l, 2, true);
  auto s = score(item);
  EXPECT_EQ(s.level, 5);
  EXPECT_DOUBLE_EQ(s.progress, 5.0);
}

TEST_F(ScoringTest, PassRatioIsConfigurable) {
  auto item = makeItem("6.1.1", "6.1", {5, 5, 1, 1, 1});
  setLevel("6.1.1", 1, 4, true);
  set("6.1.1.L1.5", false);
  EXPECT_EQ(score(item).level, 0);
  ScoringConfig lenient;
  lenient.level_pass_ratio = 0.8;
  auto s = score(item, lenient);
  EXPECT_EQ(s.level, 1);
  EXPECT_DOUBLE_EQ(s.progress, 1.0);
  setLevel("6.1.1", 2, 3, true);  // 3/5 < 0.8
  s = score(item, lenient);
  EXPECT_EQ(s.level, 1);
  EXPECT_DOUBLE_EQ(s.progress, 1.6);
}

TEST_F(ScoringTest, DomainAndSystemAggregates) {
  RulePack pack;
  pack.model.domains = {DomainInfo{"6.1", "监控告警", "Monitoring", {"6.1.1", "6.1.3"}},
                        DomainInfo{"6.2", "故障管理", "Incidents", {"6.2.1"}},
                        DomainInfo{"6.3", "变更管理", "Change", {"6.3.1"}}};
  pack.items = {makeItem("6.1.1", "6.1", {1, 1, 1, 1, 1}), makeItem("6.1.3", "6.1", {1, 1, 1, 1, 1}),
                makeItem("6.2.1", "6.2", {1, 1, 1, 1, 1})};
  for (int l = 1; l <= 3; ++l) setLevel("6.1.1", l, 1, true);  // 6.1.1: 3
  setLevel("6.1.3", 1, 1, true);                               // 6.1.3: 1
  for (int l = 1; l <= 4; ++l) setLevel("6.2.1", l, 1, true);  // 6.2.1: 4
  EvalContext ctx{evidence_, kNow};
  auto s = scoreSystem("payments", pack, ctx, {});
  ASSERT_EQ(s.domains.size(), 2u) << "a domain without rules is not scored";
  EXPECT_EQ(s.domains[0].domain, "6.1");
  EXPECT_DOUBLE_EQ(s.domains[0].level, 1.0);
  EXPECT_DOUBLE_EQ(s.domains[0].progress, 2.0);
  EXPECT_DOUBLE_EQ(s.domains[1].level, 4.0);
  EXPECT_DOUBLE_EQ(s.level, 1.0);
  EXPECT_DOUBLE_EQ(s.progress, 3.0);

  ScoringConfig mean;
  mean.domain_aggregate = ScoringConfig::Aggregate::kMean;
  mean.system_aggregate = ScoringConfig::Aggregate::kMax;
  s = scoreSystem("payments", pack, ctx, mean);
  EXPECT_DOUBLE_EQ(s.domains[0].level, 2.0);
  EXPECT_DOUBLE_EQ(s.level, 4.0);
}

TEST(ScoringConfigTest, ParsesAndRejectsBadValues) {
  auto ok = parseScoringConfig("c.yaml", YAML::Load("{level_pass_ratio: 0.9, domain_aggregate: mean}"));
  ASSERT_TRUE(ok.ok());
  EXPECT_DOUBLE_EQ(ok->level_pass_ratio, 0.9);
  EXPECT_EQ(ok->domain_aggregate, ScoringConfig::Aggregate::kMean);
  EXPECT_EQ(ok->system_aggregate, ScoringConfig::Aggregate::kMin);
  auto bad = parseScoringConfig("c.yaml", YAML::Load("{level_pass_ratio: 1.5}"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("field 'level_pass_ratio'"), std::string::npos);
  auto agg = parseScoringConfig("c.yaml", YAML::Load("{system_aggregate: median}"));
  ASSERT_FALSE(agg.ok());
  EXPECT_NE(agg.error().message.find("'median' is not one of min, mean, max"), std::string::npos);
  auto key = parseScoringConfig("c.yaml", YAML::Load("{pass_ratio: 1}"));
  ASSERT_FALSE(key.ok());
}

}  // namespace
}  // namespace opsm::scorer

namespace opsm::scorer {
namespace {

// Per dimension (people, process, tools): the progress of the item's criteria of that
// dimension alone; a level without such criteria is reached with the one below.
TEST_F(ScoringTest, DimensionProgressCountsOnlyTheDimensionsCriteria) {
  ItemRules item = makeItem("9.1.1", "9.1", {2, 2, 1, 1, 1});
  auto tag = [&](int level, int n, unsigned dims) { item.levels[level - 1].criteria[n - 1].dimensions = dims; };
  const unsigned people = 1u << 0, process = 1u << 1, tools = 1u << 2;
  tag(1, 1, tools);
  tag(1, 2, people | process);
  tag(2, 1, tools);
  tag(2, 2, process);
  tag(3, 1, tools);
  tag(4, 1, tools);
  tag(5, 1, tools);
  setLevel("9.1.1", 1, 2, true);
  set("9.1.1.L2.1", true);   // tools
  set("9.1.1.L2.2", false);  // process
  set("9.1.1.L3.1", false);  // tools
  ItemScore s = score(item);
  EXPECT_EQ(s.level, 1);
  EXPECT_EQ(s.dimension_criteria, (std::array<int, kDimensions>{1, 2, 5}));
  // people: its only criterion (L1) passes; L2..L5 have none of it: 5
  EXPECT_DOUBLE_EQ(s.dimension_progress[0], 5.0);
  // process: L1 passes, L2's one process criterion fails: 1 + 0/1
  EXPECT_DOUBLE_EQ(s.dimension_progress[1], 1.0);
  // tools: L1 and L2 pass, L3 fails: 2 + 0/1
  EXPECT_DOUBLE_EQ(s.dimension_progress[2], 2.0);
}

}  // namespace
}  // namespace opsm::scorer
