#include "scorer/regressions.h"

#include <gtest/gtest.h>

namespace opsm::scorer {
namespace {

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'800'000'000));

// An item with one criterion per level; `states` gives them in level order.
class RegressionsTest : public ::testing::Test {
 protected:
  RegressionsTest() {
    for (int l = 1; l <= 3; ++l) {
      Criterion c;
      c.id = "6.1.1/L" + std::to_string(l) + "/1";
      c.level = l;
      criteria_.push_back(c);
    }
  }
  std::vector<SystemScore> scores(int level, std::vector<CriterionState> states) {
    ItemScore item;
    item.item = "6.1.1";
    item.level = level;
    for (size_t i = 0; i < states.size(); ++i) {
      item.criteria.push_back({&criteria_[i], states[i], "reason " + std::to_string(i)});
    }
    SystemScore s;
    s.system = "payments";
    s.items.push_back(item);
    return {s};
  }
  std::vector<Criterion> criteria_;
};

using CS = CriterionState;

// The baselines to persist, as the agent takes them: read, then cleared once stored.
std::vector<RegressionTracker::Baseline> take(RegressionTracker& t) {
  auto out = t.changedBaselines();
  t.clearChangedBaselines();
  return out;
}

TEST_F(RegressionsTest, FirstScoringIsABaselineAndAFailingCriterionIsARegression) {
  RegressionTracker t;
  auto u = t.observe(scores(3, {CS::kPass, CS::kPass, CS::kPass}), kT0);
  EXPECT_TRUE(u.changes.empty());
  u = t.observe(scores(1, {CS::kPass, CS::kFail, CS::kPass}), kT0 + std::chrono::minutes(1));
  ASSERT_EQ(u.regressions.size(), 1u);
  EXPECT_EQ(u.regressions[0].old_level, 3);
  EXPECT_EQ(u.regressions[0].new_level, 1);
  ASSERT_EQ(u.regressions[0].flipped.size(), 1u);
  EXPECT_EQ(u.regressions[0].flipped[0].first, "6.1.1/L2/1");
  EXPECT_EQ(u.regressions[0].flipped[0].second, "reason 1");
  ASSERT_EQ(u.changes.size(), 1u);
  EXPECT_TRUE(u.changes[0].regression);
  EXPECT_EQ(t.level("payments", "6.1.1"), 1);
}

TEST_F(RegressionsTest, EvidenceGoingUnknownLowersTheLevelWithoutARegression) {
  RegressionTracker t;
  t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0);
  auto u = t.observe(scores(0, {CS::kUnknown, CS::kUnknown, CS::kUnknown}), kT0);
  EXPECT_TRUE(u.regressions.empty());
  ASSERT_EQ(u.changes.size(), 1u);
  EXPECT_FALSE(u.changes[0].regression);
  // And coming back is a change up, not a regression either.
  u = t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0);
  ASSERT_EQ(u.changes.size(), 1u);
  EXPECT_EQ(u.changes[0].new_level, 2);
  EXPECT_TRUE(u.regressions.empty());
}

// Hysteresis counts successful polls of the sources behind the flipped criteria, not scorings:
// every poll of any source triggers a scoring, so one odd answer of a just restarted source
// would otherwise meet N=2 within the same second.
TEST_F(RegressionsTest, HysteresisCountsPollsOfTheSourcesBehindTheFlippedCriteria) {
  RegressionTracker t(2);
  std::map<std::string, uint64_t> polls = {{"prom", 10}, {"cmdb", 4}};
  auto sources = [&](const std::string& system, const Criterion& c) {
    EXPECT_EQ(system, "payments");
    // L2/1 reads prom's evidence; the others cmdb's.
    std::map<std::string, uint64_t> out;
    const std::string source = c.id == "6.1.1/L2/1" ? "prom" : "cmdb";
    out[source] = polls[source];
    return out;
  };
  t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0, sources);
  // prom's poll 11 flips L2/1; then cmdb polls five times and the agent rescores each time.
  polls["prom"] = 11;
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0, sources).changes.empty());
  for (int i = 0; i < 5; ++i) {
    ++polls["cmdb"];
    EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0, sources).changes.empty());
  }
  // prom's poll 12 answers as before: no regression, and the baseline stays.
  polls["prom"] = 12;
  EXPECT_TRUE(t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0, sources).changes.empty());
  EXPECT_EQ(t.level("payments", "6.1.1"), 2);
  // A real loss: polls 13 and 14 both show it; the second confirms it.
  polls["prom"] = 13;
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0, sources).regressions.empty());
  polls["prom"] = 14;
  auto u = t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0, sources);
  ASSERT_EQ(u.regressions.size(), 1u);
  EXPECT_EQ(u.regressions[0].flipped[0].first, "6.1.1/L2/1");
  EXPECT_EQ(t.level("payments", "6.1.1"), 1);
}

// A criterion flipped on evidence of no polled source (an attestation withdrawn by a person)
// is a regression at once.
TEST_F(RegressionsTest, AFlipOnAnUnpolledSourceCountsAtOnce) {
  RegressionTracker t(2);
  auto none = [](const std::string&, const Criterion&) { return std::map<std::string, uint64_t>{}; };
  t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0, none);
  EXPECT_EQ(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0, none).regressions.size(), 1u);
}

// A reload keeps the baseline of criteria whose rules did not change: reloading cannot hide a
// real regression, and a criterion whose rule changed starts afresh (what new rules decide is
// not a regression).
TEST_F(RegressionsTest, AReloadKeepsTheBaselineOfUnchangedRulesOnly) {
  auto pack = [&](const std::string& l2_key) {
    RulePack p;
    ItemRules item;
    item.item = "6.1.1";
    for (int l = 1; l <= 3; ++l) {
      item.levels[l - 1].level = l;
      Criterion c = criteria_[l - 1];
      Condition when;
      when.kind = Condition::Kind::kCompare;
      when.key = l == 2 ? l2_key : "k" + std::to_string(l);
      when.literal = Value(1.0);
      c.when = when;
      item.levels[l - 1].criteria.push_back(c);
    }
    for (int l = 4; l <= 5; ++l) item.levels[l - 1].level = l;
    p.items.push_back(item);
    return p;
  };
  RulePack before = pack("k2"), same = pack("k2"), changed = pack("k2-new");
  // The scores below point at criteria_ (ids and levels are what the tracker compares).
  RegressionTracker t(1);
  t.observe(scores(3, {CS::kPass, CS::kPass, CS::kPass}), kT0);
  t.carryOver(before, changed);  // L2/1's rule changed
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kPass}), kT0).regressions.empty())
      << "a criterion whose rule changed is not a regression";
  EXPECT_EQ(t.level("payments", "6.1.1"), 1);

  RegressionTracker u(1);
  u.observe(scores(3, {CS::kPass, CS::kPass, CS::kPass}), kT0);
  for (int i = 0; i < 5; ++i) u.carryOver(before, same);  // reloads in a loop
  auto r = u.observe(scores(1, {CS::kPass, CS::kFail, CS::kPass}), kT0);
  ASSERT_EQ(r.regressions.size(), 1u) << "reloading does not hide a regression";
  EXPECT_EQ(r.regressions[0].flipped[0].first, "6.1.1/L2/1");
}

TEST_F(RegressionsTest, HysteresisNeedsTheDropToPersist) {
  RegressionTracker t(3);
  t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0);
  // A flap: down twice, back up: nothing.
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0).changes.empty());
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0).changes.empty());
  EXPECT_TRUE(t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0).changes.empty());
  // A real drop: the third consecutive scoring reports it.
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0).changes.empty());
  EXPECT_TRUE(t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0).changes.empty());
  auto u = t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0);
  ASSERT_EQ(u.regressions.size(), 1u);
  EXPECT_EQ(u.regressions[0].old_level, 2);
}

TEST_F(RegressionsTest, ARestoredBaselineMakesARestartSilent) {
  RegressionTracker t;
  t.restore("payments", "6.1.1", 2, {{"6.1.1/L1/1", CS::kPass}, {"6.1.1/L2/1", CS::kPass}});
  EXPECT_TRUE(t.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0).changes.empty());
}

// Without the restored baseline the first scoring after a restart would be a new baseline:
// a criterion that failed while the agent was down would never be reported.
TEST_F(RegressionsTest, ADropWhileTheAgentWasDownIsARegressionAgainstTheRestoredBaseline) {
  RegressionTracker t;
  t.restore("payments", "6.1.1", 2,
            {{"6.1.1/L1/1", CS::kPass}, {"6.1.1/L2/1", CS::kPass}, {"6.1.1/L3/1", CS::kFail}});
  EXPECT_EQ(t.level("payments", "6.1.1"), 2);
  auto u = t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0);
  ASSERT_EQ(u.regressions.size(), 1u);
  EXPECT_EQ(u.regressions[0].old_level, 2);
  EXPECT_EQ(u.regressions[0].new_level, 1);
  ASSERT_EQ(u.regressions[0].flipped.size(), 1u);
  EXPECT_EQ(u.regressions[0].flipped[0].first, "6.1.1/L2/1");
}

TEST_F(RegressionsTest, EveryChangeOfTheBaselineIsReportedForPersistenceAndOnlyThen) {
  RegressionTracker t(2);
  t.recordBaselineChanges(true);
  t.observe(scores(1, {CS::kPass, CS::kUnknown, CS::kFail}), kT0);
  auto b = take(t);  // the first scoring sets it
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].level, 1);
  EXPECT_EQ(b[0].states.at("6.1.1/L2/1"), CS::kUnknown);
  // The same scoring again: nothing to write.
  t.observe(scores(1, {CS::kPass, CS::kUnknown, CS::kFail}), kT0);
  EXPECT_TRUE(take(t).empty());
  // Same level, a criterion's state changed: the baseline changed, so it is written.
  t.observe(scores(1, {CS::kPass, CS::kFail, CS::kPass}), kT0);
  b = take(t);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].level, 1);
  EXPECT_EQ(b[0].states.at("6.1.1/L2/1"), CS::kFail);
  EXPECT_EQ(b[0].states.at("6.1.1/L3/1"), CS::kPass);
  // A drop waiting for hysteresis leaves the baseline (level 1) as it is.
  t.observe(scores(0, {CS::kFail, CS::kFail, CS::kPass}), kT0);
  EXPECT_TRUE(take(t).empty());
}

// The states persisted are the tracker's own: restoring them (a restart) makes the next
// scoring compare against exactly what the running agent would have compared against.
TEST_F(RegressionsTest, APersistedBaselineRestoredGivesTheSameVerdictAsNoRestart) {
  RegressionTracker running(1);
  running.recordBaselineChanges(true);
  std::map<std::pair<std::string, std::string>, RegressionTracker::Baseline> disk;
  auto persist = [&] {
    for (auto& b : take(running)) disk[{b.system, b.item}] = b;
  };
  // Level 2 throughout (a pass ratio below 1 lets it stand on an unknown criterion); L2/1
  // goes from unknown to passing: the level never changes, the baseline does.
  running.observe(scores(2, {CS::kPass, CS::kUnknown, CS::kFail}), kT0);
  persist();
  running.observe(scores(2, {CS::kPass, CS::kPass, CS::kFail}), kT0);
  persist();
  RegressionTracker restarted(1);
  for (auto& [key, b] : disk) restarted.restore(b.system, b.item, b.level, b.states);
  // L2/1 fails: a regression for the running tracker, so for the restarted one too (a
  // baseline kept only at level changes would say L2/1 was unknown: no regression).
  const auto drop = scores(1, {CS::kPass, CS::kFail, CS::kFail});
  auto a = running.observe(drop, kT0);
  auto r = restarted.observe(drop, kT0);
  ASSERT_EQ(a.regressions.size(), 1u);
  ASSERT_EQ(r.regressions.size(), 1u);
  EXPECT_EQ(r.regressions[0].old_level, a.regressions[0].old_level);
  EXPECT_EQ(r.regressions[0].flipped, a.regressions[0].flipped);
}

TEST_F(RegressionsTest, WithoutRecordingNothingIsKept) {
  RegressionTracker t;
  t.observe(scores(1, {CS::kPass, CS::kFail, CS::kFail}), kT0);
  EXPECT_TRUE(take(t).empty());
}

}  // namespace
}  // namespace opsm::scorer
