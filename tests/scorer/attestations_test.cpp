#include "scorer/attestations.h"

#include <gtest/gtest.h>

#include "scorer/engine.h"
#include "tests/support/temp_dir.h"

namespace opsm::scorer {
namespace {

const TimePoint kNow = *parseDate("2026-11-24T12:00:00Z");

class AttestationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = loadRulePack(std::string(OPSM_SOURCE_DIR) + "/rules");
    ASSERT_TRUE(p.ok()) << p.error().message;
    pack_ = std::move(*p);
  }

  Result<std::vector<Evidence>> load(const std::string& yaml) {
    path_ = dir_.write("attestations.yaml", yaml);
    return loadAttestations(path_, pack_, kNow);
  }

  void expectError(const std::string& yaml, int line, const std::string& text) {
    auto r = load(yaml);
    ASSERT_FALSE(r.ok()) << text;
    std::string where = path_ + ":" + std::to_string(line) + ":";
    EXPECT_EQ(r.error().message.rfind(where, 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  }

  RulePack pack_;
  testing::TempDir dir_;
  std::string path_;
};

const std::string kOne = R"(attestations:
  - system: payments
    criterion: 6.1.6/L2/1
    attested_by: Li Wei <li.wei@example.com>
    document: https://wiki.example.com/ops/alerting-rules
    date: 2026-10-01
)";

TEST_F(AttestationsTest, BecomesEvidenceValidForTheCriterionsMaxAge) {
  auto r = load(kOne);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const Evidence& e = r->front();
  EXPECT_EQ(e.key, "attestation.6.1.6/L2/1");
  EXPECT_EQ(e.system, "payments");
  EXPECT_EQ(e.value, Value(true));
  EXPECT_EQ(e.observed_at, *parseDate("2026-10-01"));
  EXPECT_EQ(e.expires_at, *parseDate("2026-10-01") + std::chrono::hours(24 * 365))
      << "default max_age is 365d";
  EXPECT_EQ(e.source.collector, "attestations");
  EXPECT_NE(e.source.locator.find("Li Wei"), std::string::npos);
  EXPECT_NE(e.source.locator.find("https://wiki.example.com/ops/alerting-rules"),
            std::string::npos);
}

TEST_F(AttestationsTest, ExpiresEarlierWhenTheAttestationSaysSoAndThenCountsAsUnknown) {
  auto r = load(kOne + "    expires: 2026-11-01\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->front().expires_at, *parseDate("2026-11-01"));
  std::map<std::string, Evidence> ev{{r->front().key, r->front()}};
  const Criterion* c = nullptr;
  for (const auto& l : pack_.findItem("6.1.6")->levels) {
    for (const auto& x : l.criteria) {
      if (x.id == "6.1.6/L2/1") c = &x;
    }
  }
  ASSERT_NE(c, nullptr);
  auto before = evaluateCriterion(*c, EvalContext{ev, *parseDate("2026-10-15")});
  EXPECT_EQ(before.state, CriterionState::kPass);
  EXPECT_NE(before.reason.find("Li Wei"), std::string::npos) << before.reason;
  auto after = evaluateCriterion(*c, EvalContext{ev, kNow});
  EXPECT_EQ(after.state, CriterionState::kUnknown) << "expired attestations are unknown";
  EXPECT_NE(after.reason.find("expired"), std::string::npos);
}

TEST_F(AttestationsTest, NotMetIsAFail) {
  auto r = load(kOne + "    met: false\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->front().value, Value(false));
}

TEST_F(AttestationsTest, Errors) {
  expectError(R"(attestations:
  - system: payments
    criterion: 6.1.6/L2/9
    attested_by: x
    document: y
    date: 2026-10-01
)",
              3, "field 'criterion': no criterion 6.1.6/L2/9");
  expectError(R"(attestations:
  - system: payments
    criterion: 6.1.6/L1/3
    attested_by: x
    document: y
    date: 2026-10-01
)",
              3, "is evidenced by collected evidence, not by attestation");
  expectError(R"(attestations:
  - system: payments
    criterion: 6.1.6/L2/1
    document: y
    date: 2026-10-01
)",
              2, "field 'attested_by': is required");
  expectError(R"(attestations:
  - system: payments
    criterion: 6.1.6/L2/1
    attested_by: x
    document: y
    date: 2027-01-01
)",
              6, "field 'date': is in the future");
  expectError(R"(attestations:
  - system: payments
    criterion: 6.1.6/L2/1
    attested_by: x
    document: y
    date: 01/10/2026
)",
              6, "invalid date");
  expectError(kOne + "    expires: 2026-09-01\n", 7, "field 'expires': must be after date");
  expectError(kOne + "    signed: yes\n", 7, "field 'signed': unknown key in attestation");
  expectError(kOne + kOne.substr(kOne.find("  - ")), 7, "a second attestation of 6.1.6/L2/1");
}

TEST(ParseDateTest, FormatsAndErrors) {
  EXPECT_EQ(formatTime(*parseDate("2026-10-01")), "2026-10-01T00:00:00Z");
  EXPECT_EQ(formatTime(*parseDate("2026-10-01T08:30:05Z")), "2026-10-01T08:30:05Z");
  EXPECT_FALSE(parseDate("2026-02-30").ok());
  EXPECT_FALSE(parseDate("2026-13-01").ok());
  EXPECT_FALSE(parseDate("2026-10-01T08:30:05+08:00").ok());
}

}  // namespace
}  // namespace opsm::scorer
