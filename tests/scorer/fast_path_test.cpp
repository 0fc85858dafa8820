// The scoring fast path (indexed evidence, no reasons) decides exactly what the explained path
// decides, criterion by criterion, on the shipped rule pack over varied evidence.
#include <gtest/gtest.h>

#include "scorer/check.h"
#include "scorer/keys.h"
#include "scorer/scoring.h"

namespace opsm::scorer {
namespace {

TEST(FastPath, SameStatesAndLevelsAsTheExplainedPath) {
  auto pack = loadRulePack(std::string(OPSM_SOURCE_DIR) + "/rules");
  ASSERT_TRUE(pack) << pack.error().message;
  std::set<std::string> keys;
  for (const auto& item : pack->items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        std::vector<std::string> ks;
        if (c.when) conditionKeys(*c.when, &ks);
        if (c.applies_to) conditionKeys(*c.applies_to, &ks);
        keys.insert(ks.begin(), ks.end());
        if (c.attestation) keys.insert(c.attestation_key);
      }
    }
  }
  const TimePoint now = Clock::now();
  std::map<CriterionState, int> seen;
  for (int s = 0; s < 60; ++s) {
    std::map<std::string, Evidence> ev;
    int i = 0;
    for (const auto& k : keys) {
      ++i;
      int v = (s * 7 + i * 13) % 11;
      if (v == 0) continue;  // missing
      Evidence e;
      e.key = k;
      e.system = "s";
      // Vary the type too: a wrong type must be unknown on both paths.
      if (k == "system.frontend") {
        e.value = s % 2 == 0;  // front-end only criteria: applicable on half the systems
      } else if (k.rfind("attestation.", 0) == 0 || v % 4 == 0) {
        e.value = v % 3 != 0;
      } else if (v % 4 == 1) {
        e.value = static_cast<double>(v * 37 % 100) / 10;
      } else if (v % 4 == 2) {
        e.value = StringList{"logs", "tracing", "node", "pagerduty", "nodeGraph"};
      } else {
        e.value = std::string(v % 2 ? "master" : "x");
      }
      e.observed_at = now - std::chrono::hours(v);
      e.expires_at = now + std::chrono::hours(v % 5 == 0 ? -1 : 1);  // some expired
      ev.emplace(k, std::move(e));
    }
    EvidenceIndex index;
    buildIndex(ev, &index);
    ScoringConfig slow, fast;
    fast.explain = false;
    auto a = scoreSystem("s", *pack, EvalContext{ev, now}, slow);
    auto b = scoreSystem("s", *pack, EvalContext{ev, now, &index}, fast);
    ASSERT_EQ(a.items.size(), b.items.size());
    EXPECT_EQ(a.level, b.level);
    EXPECT_EQ(a.progress, b.progress);
    for (size_t it = 0; it < a.items.size(); ++it) {
      EXPECT_EQ(a.items[it].level, b.items[it].level) << a.items[it].item;
      for (size_t c = 0; c < a.items[it].criteria.size(); ++c) {
        EXPECT_EQ(a.items[it].criteria[c].state, b.items[it].criteria[c].state)
            << a.items[it].criteria[c].criterion->id << " on system variant " << s << ": "
            << a.items[it].criteria[c].reason;
        EXPECT_TRUE(b.items[it].criteria[c].reason.empty());
        ++seen[b.items[it].criteria[c].state];
      }
    }
  }
  // The comparison covered every outcome, not just unknowns.
  EXPECT_GT(seen[CriterionState::kPass], 100);
  EXPECT_GT(seen[CriterionState::kFail], 100);
  EXPECT_GT(seen[CriterionState::kUnknown], 100);
  EXPECT_GT(seen[CriterionState::kNotApplicable], 0);
}

}  // namespace
}  // namespace opsm::scorer
