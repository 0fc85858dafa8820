#include "scorer/rules.h"
#include "scorer/scoring.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace opsm::scorer {
namespace {

const std::string kModel = std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml";

// A valid item file; tests break one line of it at a time.
const std::string kValid = R"(item: "6.1.3"
levels:
  1:
    - id: 6.1.3/L1/1
      zh: 提供独立的数据存储。
      en: Provides an independent data store.
      when: {key: monitoring.prometheus.tsdb_head_series, gt: 0}
  2:
    - id: 6.1.3/L2/1
      zh: 提供统一的数据存储；
      en: Provides a unified data store.
      attestation: true
  3:
    - id: 6.1.3/L3/1
      zh: 支持时序数据的统计功能；
      en: Statistics.
      when: {all: [{key: a, ge: 1}, {not: {exists: b}}]}
  4:
    - id: 6.1.3/L4/1
      zh: 根据业务场景动态设置存储周期。
      en: Retention.
      when: {age: c, lt: 24h}
  5: {same_as: 4}
)";

std::string replaceLine(const std::string& text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  std::string out = text;
  out.replace(pos, from.size(), to);
  return out;
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = loadModel(kModel);
    ASSERT_TRUE(m.ok()) << m.error().message;
    model_ = *m;
  }

  // Loads `content` as a rule file and expects an error that names file:line and `text`.
  void expectError(const std::string& content, int line, const std::string& text) {
    std::string path = dir_.write("item.yaml", content);
    auto r = loadItemRules(path, model_);
    ASSERT_FALSE(r.ok()) << "expected an error mentioning: " << text;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    std::string want_where = path + ":" + std::to_string(line) + ":";
    EXPECT_EQ(r.error().message.rfind(want_where, 0), 0u)
        << "want prefix " << want_where << " in: " << r.error().message;
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  }

  testing::TempDir dir_;
  Model model_;
};

TEST_F(RulesTest, ValidFileCompiles) {
  auto r = loadItemRules(dir_.write("ok.yaml", kValid), model_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->item, "6.1.3");
  EXPECT_EQ(r->domain, "6.1");
  EXPECT_EQ(r->levels[0].criteria.size(), 1u);
  EXPECT_EQ(r->levels[0].criteria[0].line, 4);
  EXPECT_TRUE(r->levels[1].criteria[0].attestation);
  EXPECT_TRUE(r->levels[4].same_as_previous);
  EXPECT_TRUE(r->levels[4].criteria.empty());
  EXPECT_EQ(r->levels[3].criteria[0].when->source_text, "age(c) < 24h");
}

TEST_F(RulesTest, UnknownOperator) {
  expectError(replaceLine(kValid, "gt: 0}", "gtt: 0}"), 7, "field 'gtt': unknown operator");
}

TEST_F(RulesTest, TwoOperators) {
  expectError(replaceLine(kValid, "gt: 0}", "gt: 0, lt: 5}"), 7, "exactly one operator");
}

TEST_F(RulesTest, NonNumericOrderedLiteral) {
  expectError(replaceLine(kValid, "gt: 0}", "gt: many}"), 7, "field 'gt': must be a number");
}

TEST_F(RulesTest, BadDurationInAge) {
  expectError(replaceLine(kValid, "lt: 24h}", "lt: 24}"), 22, "missing unit");
}

TEST_F(RulesTest, BadRegex) {
  expectError(replaceLine(kValid, "gt: 0}", "matches: \"(\"}"), 7, "invalid regular expression");
}

TEST_F(RulesTest, ConditionWithoutSelector) {
  expectError(replaceLine(kValid, "{key: a, ge: 1}", "{ge: 1}"), 17,
              "needs exactly one of 'key', 'len' or 'age'");
}

TEST_F(RulesTest, EmptyAll) {
  expectError(replaceLine(kValid, "when: {all: [{key: a, ge: 1}, {not: {exists: b}}]}",
                          "when: {all: []}"),
              17, "field 'all': must be a non-empty list");
}

TEST_F(RulesTest, CriterionWithNeither) {
  expectError(replaceLine(kValid, "      attestation: true\n", ""), 9,
              "needs 'when' (a condition), 'attestation: true', or both");
}

TEST_F(RulesTest, HintsOnlyOnAttestationsAndFloorsOnlyAtLevelOne) {
  expectError(replaceLine(kValid, "when: {all: [{key: a, ge: 1}, {not: {exists: b}}]}",
                          "when: {key: a, ge: 1}\n      hints: [a]"),
              18, "field 'hints': only an attestation criterion has hints");
  expectError(replaceLine(kValid, "      attestation: true\n",
                          "      attestation: true\n      hints: [\"not a key!\"]\n"),
              13, "is not an evidence key");
  expectError(replaceLine(kValid, "      attestation: true\n",
                          "      attestation: true\n      floor_of: 6.1.3/L3/1\n"),
              13, "field 'floor_of': only a level-1 criterion is a floor");
}

// A level-1 starting point passes when attested, or when the practice that supersedes it
// passes; "evidenced or attested" passes on its evidence, else its attestation decides, and
// its explanation shows the attester the hints.
TEST_F(RulesTest, FloorsAndEvidencedOrAttestedCriteria) {
  std::string text = R"(item: "6.8.4"
levels:
  1:
    - id: 6.8.4/L1/1
      zh: a
      en: Most tasks are done by logging in to machines.
      attestation: true
      floor_of: 6.8.4/L2/1
  2:
    - id: 6.8.4/L2/1
      zh: b
      en: Most tasks are automated remotely.
      attestation: true
      when: {key: ops.automated_ratio, ge: 0.5}
      hints: [ops.jobs]
  3: [{id: 6.8.4/L3/1, zh: c, en: c, attestation: true}]
  4: [{id: 6.8.4/L4/1, zh: d, en: d, attestation: true}]
  5: [{id: 6.8.4/L5/1, zh: e, en: e, attestation: true}]
)";
  auto rules = loadItemRules(dir_.write("ops.yaml", text), model_);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  const TimePoint now = Clock::now();
  auto score = [&](std::map<std::string, Evidence> ev) {
    EvalContext ctx{ev, now};
    return scoreItem(*rules, ctx, ScoringConfig{});
  };
  auto fact = [&](const std::string& key, Value v) {
    Evidence e;
    e.key = key;
    e.system = "s";
    e.value = std::move(v);
    e.observed_at = now;
    e.expires_at = now + std::chrono::hours(1);
    e.source = {"src", "loc"};
    return std::pair{key, e};
  };
  // Nothing known: both unknown; the explanation shows the hint.
  auto none = score({});
  EXPECT_EQ(none.criteria[0].state, CriterionState::kUnknown);
  EXPECT_EQ(none.criteria[1].state, CriterionState::kUnknown);
  EXPECT_NE(none.criteria[1].reason.find("supporting evidence for the attester (not proof): "
                                         "ops.jobs = none"),
            std::string::npos)
      << none.criteria[1].reason;
  // The evidence shows L2/1: it passes, and so does the floor below it.
  auto automated = score({fact("ops.automated_ratio", 0.8)});
  EXPECT_EQ(automated.criteria[1].state, CriterionState::kPass);
  EXPECT_EQ(automated.criteria[0].state, CriterionState::kPass);
  EXPECT_NE(automated.criteria[0].reason.find("a starting point the system is past: 6.8.4/L2/1"),
            std::string::npos);
  EXPECT_EQ(automated.level, 2) << "L1 and L2 pass";
  // The evidence does not show it and nobody attested: unknown, not failed.
  auto manual = score({fact("ops.automated_ratio", 0.1), fact("ops.jobs", 3.0)});
  EXPECT_EQ(manual.criteria[1].state, CriterionState::kUnknown);
  EXPECT_NE(manual.criteria[1].reason.find("the evidence does not show it"), std::string::npos);
  EXPECT_NE(manual.criteria[1].reason.find("ops.jobs = 3 (src)"), std::string::npos);
  // Attested as not met: fails; the floor is attested as met: passes.
  auto attested = score({fact("ops.automated_ratio", 0.1), fact("attestation.6.8.4/L2/1", false),
                         fact("attestation.6.8.4/L1/1", true)});
  EXPECT_EQ(attested.criteria[1].state, CriterionState::kFail);
  EXPECT_EQ(attested.criteria[0].state, CriterionState::kPass);
  EXPECT_EQ(attested.level, 1);
}

TEST_F(RulesTest, IdNotMatchingItemAndLevel) {
  expectError(replaceLine(kValid, "id: 6.1.3/L2/1", "id: 6.1.3/L3/1"), 9,
              "must be of the form 6.1.3/L2/<n>");
}

TEST_F(RulesTest, DuplicateId) {
  std::string twice = replaceLine(kValid, "  2:\n",
                                  "    - id: 6.1.3/L1/1\n      zh: x\n      en: y\n"
                                  "      attestation: true\n  2:\n");
  expectError(twice, 8, "duplicate criterion id 6.1.3/L1/1");
}

TEST_F(RulesTest, MissingField) {
  expectError(replaceLine(kValid, "      zh: 提供统一的数据存储；\n", ""), 9, "field 'zh': is required");
}

TEST_F(RulesTest, UnknownCriterionKey) {
  expectError(replaceLine(kValid, "      attestation: true\n",
                          "      attestation: true\n      evidence: x\n"),
              13, "field 'evidence': unknown key in criterion");
}

TEST_F(RulesTest, MissingLevel) {
  expectError(replaceLine(kValid, "  5: {same_as: 4}\n", ""), 3, "level 5 is missing");
}

TEST_F(RulesTest, SameAsMustNamePreviousLevel) {
  expectError(replaceLine(kValid, "{same_as: 4}", "{same_as: 3}"), 23,
              "must name the previous level (4)");
}

TEST_F(RulesTest, UnknownItem) {
  expectError(replaceLine(kValid, "item: \"6.1.3\"", "item: \"6.1.7\""), 1,
              "'6.1.7' is not an item of the model");
}

TEST_F(RulesTest, YamlSyntaxError) {
  // yaml-cpp reports the line where it notices the unclosed flow map: the next one.
  expectError(replaceLine(kValid, "when: {age: c, lt: 24h}", "when: {age: c, lt: 24h"), 23,
              "YAML syntax error");
}

TEST_F(RulesTest, InvalidKeyName) {
  expectError(replaceLine(kValid, "{exists: b}", "{exists: \"b c\"}"), 17,
              "must be an evidence key");
}

TEST_F(RulesTest, PackRejectsTheSameItemTwice) {
  testing::TempDir pack;
  std::filesystem::copy_file(kModel, pack.path() / "model.yaml");
  pack.write("a.yaml", kValid);
  pack.write("b.yaml", kValid);
  auto r = loadRulePack(pack.path().string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("b.yaml: item 6.1.3 is already defined in"),
            std::string::npos)
      << r.error().message;
}

TEST_F(RulesTest, ShippedPackLoads) {
  auto r = loadRulePack(std::string(OPSM_SOURCE_DIR) + "/rules");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(r->items.size(), 3u);
  for (const auto& item : r->items) {
    for (const auto& level : item.levels) {
      EXPECT_TRUE(level.same_as_previous || !level.criteria.empty())
          << item.item << " level " << level.level;
    }
  }
}

}  // namespace
}  // namespace opsm::scorer
