// The assessment report of one system, in both formats and languages, from a real agent:
// levels, evidence with its source, gaps, stale evidence and attestations due.
#include "tests/support/requests.h"
#include "agent/exposition/report.h"

#include <gtest/gtest.h>

#include "tests/support/drill_pack.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    // Attested 355 days ago: with the default 365-day validity it is due in 10 days.
    dir_.write("attestations.yaml",
               "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
               "    attested_by: Li Wei\n    document: https://wiki.example.com/<crisis>\n"
               "    date: " + formatTime(Clock::now() - std::chrono::hours(24 * 355)).substr(0, 10) +
               "\n");
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}]}");
    auto config = loadConfig(
        dir_.write("agent.yml", "rules_dir: " + testing::drillRulePack(dir_) +
                                    "\nattestations_file: attestations.yaml\nsystems: [payments]\n"
                                    "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                                    (dir_.path() / "facts.json").string() + "]}\n"),
        registry_);
    ASSERT_TRUE(config) << config.error().message;
    auto a = Agent::create(std::move(*config));
    ASSERT_TRUE(a) << a.error().message;
    agent_ = std::move(*a);
    agent_->pollAll();
    agent_->rescore();
  }
  collectors::Registry registry_;
  testing::TempDir dir_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(ReportTest, MarkdownInEnglishHasLevelsEvidenceGapsAndDueAttestations) {
  auto r = renderReport(*agent_, "payments", ReportFormat::kMarkdown, ReportLang::kEn, Clock::now());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("# Operations maturity assessment: payments"), std::string::npos);
  EXPECT_NE(r->find("### 6.7.4 Emergency drills — level 1"), std::string::npos) << *r;
  EXPECT_NE(r->find("plugin.drill.last_report_age_seconds = 3600 (drills, "), std::string::npos);
  EXPECT_NE(r->find("| 6.7.4 | 6.7.4/L2/1 |"), std::string::npos) << "a gap to level 2";
  EXPECT_NE(r->find("## Attestations due within 30 days"), std::string::npos);
  EXPECT_NE(r->find("| 6.7.4/L1/2 |"), std::string::npos);
  // What sources and people wrote is text in any Markdown renderer, never HTML.
  EXPECT_EQ(r->find("<crisis>"), std::string::npos) << *r;
  EXPECT_NE(r->find("&lt;crisis&gt;"), std::string::npos) << *r;
}

TEST(MarkdownReport, MarkupFromSourcesAndPeopleIsEscaped) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  dir.write("attestations.yaml",
            "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
            "    attested_by: \"<img src=x onerror=alert(1)>\"\n"
            "    document: \"[click](javascript:alert(1)) ![x](http://evil/x.png)\"\n"
            "    date: " + formatTime(Clock::now() - std::chrono::hours(24 * 355)).substr(0, 10) +
                "\n");
  dir.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                          "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}]}");
  auto config = loadConfig(
      dir.write("agent.yml", "rules_dir: " + testing::drillRulePack(dir) +
                                 "\nattestations_file: attestations.yaml\nsystems: [payments]\n"
                                 "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                                 (dir.path() / "facts.json").string() + "]}\n"),
      registry);
  ASSERT_TRUE(config) << config.error().message;
  auto a = Agent::create(std::move(*config));
  ASSERT_TRUE(a) << a.error().message;
  (*a)->pollAll();
  (*a)->rescore();
  auto r = renderReport(**a, "payments", ReportFormat::kMarkdown, ReportLang::kZh, Clock::now());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->find("<img"), std::string::npos) << *r;
  EXPECT_EQ(r->find("[click]("), std::string::npos) << *r;
  EXPECT_EQ(r->find("![x]("), std::string::npos) << *r;
  EXPECT_NE(r->find("\\[click\\]"), std::string::npos) << *r;
}

TEST_F(ReportTest, HtmlInChineseIsOneEscapedPage) {
  auto r = renderReport(*agent_, "payments", ReportFormat::kHtml, ReportLang::kZh, Clock::now());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(r->find("<html lang=\"zh\">"), std::string::npos);
  EXPECT_NE(r->find("技术运营成熟度评估报告：payments"), std::string::npos);
  EXPECT_NE(r->find("应急演练"), std::string::npos);
  EXPECT_NE(r->find("&lt;crisis&gt;"), std::string::npos) << "document links are escaped";
  EXPECT_EQ(r->find("<crisis>"), std::string::npos);
  EXPECT_NE(r->find("</html>"), std::string::npos);
}

TEST_F(ReportTest, HtmlHasTheRadarOfTheDomainsAndTheWaivers) {
  // A waiver of 6.7.4/L2/1: the item is at level 1 strictly; the radar then draws both levels.
  auto w = testing::askWaiver(*agent_, 
      "{\"system\": \"payments\", \"criterion\": \"6.7.4/L2/1\", \"justification\": "
      "\"escalation tooling arrives in Q1 <soon>\", \"risk\": \"high\", \"expires\": \"" +
          formatTime(Clock::now() + std::chrono::hours(24 * 20)).substr(0, 10) + "\"}",
      Principal{"li.wei", Role::kAttester});
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE(agent_->decideWaiver(w->id, Ledger::Decision::kApprove,
                                   Principal{"wang.fang", Role::kApprover}, ""));
  auto r = renderReport(*agent_, "payments", ReportFormat::kHtml, ReportLang::kEn, Clock::now());
  ASSERT_TRUE(r) << r.error().message;
  auto svg = r->find("<svg class=\"chart radar\"");
  ASSERT_NE(svg, std::string::npos);
  size_t axes = 0;
  for (size_t p = svg; (p = r->find("class=\"axis\"", p)) != std::string::npos; ++p) ++axes;
  EXPECT_EQ(axes, 9u);
  EXPECT_NE(r->find("6.7 IT continuity"), std::string::npos);
  EXPECT_NE(r->find("<polygon class=\"series waivers\""), std::string::npos);
  EXPECT_NE(r->find("<svg class=\"chart bars\""), std::string::npos);
  EXPECT_NE(r->find("<h2>Waivers</h2>"), std::string::npos);
  EXPECT_NE(r->find("escalation tooling arrives in Q1 &lt;soon&gt;"), std::string::npos);
  EXPECT_NE(r->find("unknown (waived)"), std::string::npos) << "6.7.4/L2/1's state, waived";
  // Markdown has no pictures.
  auto md = renderReport(*agent_, "payments", ReportFormat::kMarkdown, ReportLang::kEn, Clock::now());
  ASSERT_TRUE(md);
  EXPECT_EQ(md->find("<svg"), std::string::npos);
}

TEST_F(ReportTest, StaleEvidenceIsListedAndAnUnknownSystemIsAnError) {
  auto later = Clock::now() + std::chrono::hours(2);  // past the exec evidence's 5m TTL
  auto r = renderReport(*agent_, "payments", ReportFormat::kMarkdown, ReportLang::kEn, later);
  ASSERT_TRUE(r);
  auto stale = r->find("## Stale evidence");
  ASSERT_NE(stale, std::string::npos);
  EXPECT_NE(r->find("| plugin.drill.last_report_age_seconds | 3600 | drills |", stale), std::string::npos)
      << r->substr(stale);
  auto none = renderReport(*agent_, "nope", ReportFormat::kHtml, ReportLang::kEn, Clock::now());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace opsm::agent
