#include "scorer/engine.h"
#include "scorer/timing.h"

#include <gtest/gtest.h>

namespace opsm::scorer {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

class EngineTest : public ::testing::Test {
 protected:
  void put(const std::string& key, Value v, Duration age = minutes(1),
           Duration ttl = hours(1)) {
    Evidence e;
    e.key = key;
    e.system = "sys";
    e.value = std::move(v);
    e.observed_at = kNow - age;
    e.expires_at = e.observed_at + ttl;
    e.source = Source{"test", "unit"};
    evidence_[key] = e;
  }

  Tri eval(const std::string& yaml, std::string* why = nullptr) {
    auto c = compileCondition("t.yaml", YAML::Load(yaml));
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    if (!c.ok()) return Tri::kUnknown;
    EvalContext ctx{evidence_, kNow};
    return evaluate(*c, ctx, why);
  }

  std::map<std::string, Evidence> evidence_;
};

TEST_F(EngineTest, NumericComparisons) {
  put("n", 0.5);
  EXPECT_EQ(eval("{key: n, eq: 0.5}"), Tri::kPass);
  EXPECT_EQ(eval("{key: n, eq: 1}"), Tri::kFail);
  EXPECT_EQ(eval("{key: n, ne: 1}"), Tri::kPass);
  EXPECT_EQ(eval("{key: n, ne: 0.5}"), Tri::kFail);
  EXPECT_EQ(eval("{key: n, lt: 0.6}"), Tri::kPass);
  EXPECT_EQ(eval("{key: n, lt: 0.5}"), Tri::kFail);
  EXPECT_EQ(eval("{key: n, le: 0.5}"), Tri::kPass);
  EXPECT_EQ(eval("{key: n, le: 0.4}"), Tri::kFail);
  EXPECT_EQ(eval("{key: n, gt: 0.4}"), Tri::kPass);
  EXPECT_EQ(eval("{key: n, gt: 0.5}"), Tri::kFail);
  EXPECT_EQ(eval("{key: n, ge: 0.5}"), Tri::kPass);
  EXPECT_EQ(eval("{key: n, ge: 0.51}"), Tri::kFail);
}

TEST_F(EngineTest, BoolAndStringEquality) {
  put("b", true);
  put("s", "prod");
  EXPECT_EQ(eval("{key: b, eq: true}"), Tri::kPass);
  EXPECT_EQ(eval("{key: b, eq: false}"), Tri::kFail);
  EXPECT_EQ(eval("{key: b, ne: false}"), Tri::kPass);
  EXPECT_EQ(eval("{key: s, eq: prod}"), Tri::kPass);
  EXPECT_EQ(eval("{key: s, ne: prod}"), Tri::kFail);
  // A quoted literal is a string even when it looks like a bool or a number.
  put("q", "true");
  EXPECT_EQ(eval("{key: q, eq: \"true\"}"), Tri::kPass);
}

TEST_F(EngineTest, InContainsMatches) {
  put("s", "payments-api");
  put("l", StringList{"critical", "warning"});
  put("n", 3);
  EXPECT_EQ(eval("{key: s, in: [billing, payments-api]}"), Tri::kPass);
  EXPECT_EQ(eval("{key: s, in: [billing]}"), Tri::kFail);
  EXPECT_EQ(eval("{key: n, in: [1, 3]}"), Tri::kPass);
  EXPECT_EQ(eval("{key: l, contains: critical}"), Tri::kPass);
  EXPECT_EQ(eval("{key: l, contains: info}"), Tri::kFail);
  EXPECT_EQ(eval("{key: s, contains: api}"), Tri::kPass);
  EXPECT_EQ(eval("{key: s, contains: web}"), Tri::kFail);
  EXPECT_EQ(eval("{key: s, matches: \"payments-.*\"}"), Tri::kPass);
  // matches is a full match, not a search.
  EXPECT_EQ(eval("{key: s, matches: \"payments\"}"), Tri::kFail);
}

TEST_F(EngineTest, LengthAndAge) {
  put("l", StringList{"email", "webhook", "pagerduty"});
  put("old", 1.0, hours(30));
  EXPECT_EQ(eval("{len: l, ge: 2}"), Tri::kPass);
  EXPECT_EQ(eval("{len: l, eq: 2}"), Tri::kFail);
  EXPECT_EQ(eval("{len: l, lt: 3}"), Tri::kFail);
  EXPECT_EQ(eval("{age: l, lt: 5m}"), Tri::kPass);
  EXPECT_EQ(eval("{age: old, lt: 24h}", nullptr), Tri::kUnknown)
      << "30h-old evidence with a 1h TTL is expired, hence unknown";
  put("old", 1.0, hours(30), hours(48));
  EXPECT_EQ(eval("{age: old, lt: 24h}"), Tri::kFail);
  EXPECT_EQ(eval("{age: old, gt: 1d}"), Tri::kPass);
}

TEST_F(EngineTest, ExistsIsTheExplicitPresenceTest) {
  put("here", 1.0);
  put("stale", 1.0, hours(2));
  EXPECT_EQ(eval("{exists: here}"), Tri::kPass);
  EXPECT_EQ(eval("{exists: absent}"), Tri::kFail);
  EXPECT_EQ(eval("{exists: stale}"), Tri::kUnknown);
}

TEST_F(EngineTest, MissingExpiredAndMistypedEvidenceIsUnknownNeverFail) {
  put("stale", 0.99, hours(2));
  put("text", "abc");
  std::string why;
  EXPECT_EQ(eval("{key: absent, ge: 1}", &why), Tri::kUnknown);
  EXPECT_NE(why.find("no evidence absent"), std::string::npos) << why;
  EXPECT_EQ(eval("{key: stale, ge: 0.9}", &why), Tri::kUnknown);
  EXPECT_NE(why.find("expired"), std::string::npos) << why;
  EXPECT_EQ(eval("{key: text, ge: 1}", &why), Tri::kUnknown);
  EXPECT_NE(why.find("evidence is a string"), std::string::npos) << why;
  EXPECT_EQ(eval("{len: absent, ge: 1}"), Tri::kUnknown);
  EXPECT_EQ(eval("{not: {key: absent, ge: 1}}"), Tri::kUnknown);
}

TEST_F(EngineTest, KleeneAllAnyNot) {
  put("t", true);
  put("f", false);
  const std::string kT = "{key: t, eq: true}", kF = "{key: f, eq: true}",
                    kU = "{key: missing, eq: true}";
  auto all = [&](const std::string& a, const std::string& b) {
    return eval("{all: [" + a + ", " + b + "]}");
  };
  auto any = [&](const std::string& a, const std::string& b) {
    return eval("{any: [" + a + ", " + b + "]}");
  };
  EXPECT_EQ(all(kT, kT), Tri::kPass);
  EXPECT_EQ(all(kT, kF), Tri::kFail);
  EXPECT_EQ(all(kT, kU), Tri::kUnknown);
  EXPECT_EQ(all(kF, kU), Tri::kFail) << "a failed conjunct decides, whatever is unknown";
  EXPECT_EQ(any(kF, kF), Tri::kFail);
  EXPECT_EQ(any(kF, kT), Tri::kPass);
  EXPECT_EQ(any(kF, kU), Tri::kUnknown);
  EXPECT_EQ(any(kT, kU), Tri::kPass) << "a passed disjunct decides, whatever is unknown";
  EXPECT_EQ(eval("{not: " + kT + "}"), Tri::kFail);
  EXPECT_EQ(eval("{not: " + kF + "}"), Tri::kPass);
}

TEST_F(EngineTest, ExplanationNamesValueAndWant) {
  put("monitoring.prometheus.targets_up_ratio", 0.5);
  std::string why;
  EXPECT_EQ(eval("{key: monitoring.prometheus.targets_up_ratio, ge: 0.9}", &why), Tri::kFail);
  EXPECT_EQ(why,
            "monitoring.prometheus.targets_up_ratio = 0.5, want "
            "monitoring.prometheus.targets_up_ratio >= 0.9");
}

Criterion makeCriterion(const std::string& when, const std::string& applies_to = "") {
  Criterion c;
  c.id = "6.1.3/L1/1";
  c.level = 1;
  if (!when.empty()) c.when = *compileCondition("t.yaml", YAML::Load(when));
  else c.attestation = true;
  if (!applies_to.empty()) c.applies_to = *compileCondition("t.yaml", YAML::Load(applies_to));
  return c;
}

TEST_F(EngineTest, CriterionAppliesToGivesNotApplicable) {
  put("system.frontend", false);
  put("n", 1);
  EvalContext ctx{evidence_, kNow};
  auto r = evaluateCriterion(makeCriterion("{key: n, ge: 5}", "{key: system.frontend, eq: true}"),
                             ctx);
  EXPECT_EQ(r.state, CriterionState::kNotApplicable);
  auto unknown = evaluateCriterion(
      makeCriterion("{key: n, ge: 5}", "{key: system.kind, eq: frontend}"), ctx);
  EXPECT_EQ(unknown.state, CriterionState::kUnknown);
  auto applies = evaluateCriterion(makeCriterion("{key: n, ge: 5}", "{key: n, ge: 1}"), ctx);
  EXPECT_EQ(applies.state, CriterionState::kFail);
}

TEST_F(EngineTest, AttestationCriterion) {
  EvalContext ctx{evidence_, kNow};
  Criterion c = makeCriterion("");
  EXPECT_EQ(evaluateCriterion(c, ctx).state, CriterionState::kUnknown);
  put(attestationKey(c.id), true, hours(1), hours(24));
  EXPECT_EQ(evaluateCriterion(c, ctx).state, CriterionState::kPass);
  put(attestationKey(c.id), true, hours(30), hours(24));
  EXPECT_EQ(evaluateCriterion(c, ctx).state, CriterionState::kUnknown) << "expired attestation";
  put(attestationKey(c.id), false, hours(1), hours(24));
  EXPECT_EQ(evaluateCriterion(c, ctx).state, CriterionState::kFail);
}

}  // namespace
}  // namespace opsm::scorer

namespace opsm::scorer {
namespace {

class AnyKnownTest : public EngineTest {};

TEST_F(AnyKnownTest, AlternativesWithoutEvidenceDoNotHoldTheAnswerBack) {
  const char* cond = "{any_known: [{key: restic, le: 86400}, {key: borg, le: 86400}]}";
  // Neither tool reports for the system: unknown, as with any.
  EXPECT_EQ(eval(cond), Tri::kUnknown);
  // Only restic reports, and its newest snapshot is too old: fail (any would say unknown).
  put("restic", 200000.0);
  std::string why;
  EXPECT_EQ(eval(cond, &why), Tri::kFail);
  EXPECT_NE(why.find("restic"), std::string::npos) << why;
  EXPECT_EQ(why.find("borg"), std::string::npos) << why;
  EXPECT_EQ(eval("{any: [{key: restic, le: 86400}, {key: borg, le: 86400}]}"), Tri::kUnknown);
  // A fresh borg archive passes it.
  put("borg", 3600.0);
  EXPECT_EQ(eval(cond), Tri::kPass);
}

// The times TimeLimits gives are exactly those at which the engine's verdict flips: `lt`
// when the age reaches the limit, `le` a millisecond past it, and the expiry.
TEST(TimeLimitsTest, NextIsWhenTheEngineDecidesDifferently) {
  RulePack pack;
  ItemRules item;
  item.item = "6.1.3";
  item.levels[0].criteria = {makeCriterion("{age: k, lt: 5m}"), makeCriterion("{age: k, le: 10m}")};
  pack.items.push_back(item);
  const TimeLimits limits(pack);
  EXPECT_EQ(limits.timedKeys(), (std::set<std::string>{"k"}));

  Evidence e;
  e.key = "k";
  e.value = 1.0;
  e.observed_at = kNow;
  e.expires_at = kNow + hours(1);
  auto verdicts = [&](TimePoint at) {
    std::map<std::string, Evidence> ev{{"k", e}};
    EvalContext ctx{ev, at};
    std::string out;
    for (const auto& c : pack.items[0].levels[0].criteria) {
      out += std::to_string(static_cast<int>(evaluate(*c.when, ctx, nullptr)));
    }
    return out;
  };
  std::vector<TimePoint> flips;
  for (TimePoint t = kNow; t != TimePoint::max(); t = limits.next(e, t)) flips.push_back(t);
  const std::vector<TimePoint> want = {kNow, kNow + minutes(5), kNow + minutes(5) + Duration(1),
                                       kNow + minutes(10), kNow + minutes(10) + Duration(1),
                                       kNow + hours(1)};
  EXPECT_EQ(flips, want);
  // Between two consecutive times the verdicts hold; at each `lt`/`le` flip time they change.
  EXPECT_EQ(verdicts(kNow + minutes(5) - Duration(1)), verdicts(kNow));
  EXPECT_NE(verdicts(kNow + minutes(5)), verdicts(kNow + minutes(5) - Duration(1)));
  EXPECT_EQ(verdicts(kNow + minutes(10)), verdicts(kNow + minutes(5)));
  EXPECT_NE(verdicts(kNow + minutes(10) + Duration(1)), verdicts(kNow + minutes(10)));
  EXPECT_NE(verdicts(kNow + hours(1)), verdicts(kNow + hours(1) - Duration(1)));  // expired
  // A key no age() reads: only its expiry.
  e.key = "other";
  EXPECT_EQ(limits.next(e, kNow), kNow + hours(1));
  EXPECT_EQ(limits.next(e, kNow + hours(1)), TimePoint::max());
}

}  // namespace
}  // namespace opsm::scorer
