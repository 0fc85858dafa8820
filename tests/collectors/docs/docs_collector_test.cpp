// The documents collector against a real git repository (git from Debian) of Markdown and YAML
// documents with front-matter: what it reports per system and criterion, what it skips, and
// that an approved document within its review period counts for an attestation criterion in
// the agent's score (and a stale or self-approved one does not).
#include "collectors/docs/docs_collector.h"

#include <gtest/gtest.h>

#include "agent/core/agent.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm::collectors::docs {
namespace {

std::string date(int days_from_now) {
  return formatTime(Clock::now() + std::chrono::hours(24 * days_from_now)).substr(0, 10);
}

class DocsCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(testing::findExecutable("git").empty()) << "git is not installed";
    repo_ = (dir_.path() / "ops-docs").string();
    // Approved by someone else, within its review period: counts.
    dir_.write("ops-docs/continuity/crisis-org.md",
               "---\ntitle: 应急组织与职责\nsystems: [payments, ledger]\ncriteria: [6.7.4/L1/2]\n"
               "owner: li.wei\napproved_by: wang.fang\napproved_at: " + date(-30) +
                   "\nnext_review: " + date(300) + "\n---\n# 应急组织\n角色与职责……\n");
    // Past its review date.
    dir_.write("ops-docs/continuity/drill-plan.md",
               "---\ntype: drill_plan\nsystem: payments\nowner: li.wei\napproved_by: wang.fang\n"
               "approved_at: " + date(-400) + "\nnext_review: " + date(-35) + "\n---\nold plan\n");
    // Approved by its own owner.
    dir_.write("ops-docs/change/process.yaml",
               "systems: [payments]\ncriteria: [6.3.1/L1/1]\nowner: zhao.min\n"
               "approved_by: zhao.min\napproved_at: " + date(-3) + "\nnext_review: " + date(200) + "\n");
    // Not ours (no criteria), broken, and hidden.
    dir_.write("ops-docs/README.md", "# Ops documents\nNo front-matter here.\n");
    dir_.write("ops-docs/broken.md", "---\nsystems: [payments\ncriteria: [6.7.1/L1/1]\n---\n");
    dir_.write("ops-docs/.drafts/x.md", "---\nsystems: [payments]\ncriteria: [6.7.1/L1/1]\n"
                                        "owner: a\napproved_by: b\napproved_at: " + date(-1) +
                                            "\nnext_review: " + date(100) + "\n---\n");
    for (const auto& cmd : std::vector<std::vector<std::string>>{
             {"git", "-C", repo_, "init", "-q"},
             {"git", "-C", repo_, "add", "."},
             {"git", "-C", repo_, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit",
              "-qm", "documents"}}) {
      testing::Process p(cmd, (dir_.path() / "git.log").string());
      ASSERT_EQ(p.wait(), 0) << p.log();
    }
    testing::Process head({"git", "-C", repo_, "rev-parse", "HEAD"},
                          (dir_.path() / "head.txt").string());
    ASSERT_EQ(head.wait(), 0);
    commit_ = head.log().substr(0, 12);
  }

  std::map<std::string, scorer::Fact> collect() {
    DocsConfig c;
    c.name = "ops-docs";
    c.path = repo_;
    c.types["drill_plan"] = {"6.7.4/L1/1"};
    DocsCollector collector(c);
    CollectContext ctx;
    ctx.now = Clock::now();
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto facts = collector.collect(ctx);
    EXPECT_TRUE(facts) << facts.error().message;
    std::map<std::string, scorer::Fact> out;
    if (facts) {
      for (auto& f : *facts) out[f.system + " " + f.key] = f;
    }
    return out;
  }

  testing::TempDir dir_;
  std::string repo_, commit_;
};

TEST_F(DocsCollectorTest, ReportsPresenceApprovalAndReviewPeriodPerSystemAndCriterion) {
  auto f = collect();
  ASSERT_TRUE(f.count("payments document.6.7.4/L1/2"));
  EXPECT_EQ(f["payments document.6.7.4/L1/2"].value, scorer::Value(true));
  EXPECT_EQ(f["ledger document.6.7.4/L1/2"].value, scorer::Value(true));
  EXPECT_EQ(f["payments docs.6.7.4/L1/2.present"].value, scorer::Value(true));
  // The locator cites the commit and the path, who approved it and when it is reviewed.
  const std::string& loc = f["payments document.6.7.4/L1/2"].locator;
  EXPECT_EQ(loc.rfind("commit " + commit_ + " continuity/crisis-org.md (应急组织与职责; owner "
                      "li.wei, approved by wang.fang on " + date(-30),
                      0),
            0u)
      << loc;
  // By type; past its review date: present and approved, not in its review period.
  EXPECT_EQ(f["payments docs.6.7.4/L1/1.approved"].value, scorer::Value(true));
  EXPECT_EQ(f["payments docs.6.7.4/L1/1.in_review_period"].value, scorer::Value(false));
  EXPECT_EQ(f["payments document.6.7.4/L1/1"].value, scorer::Value(false));
  // Approved by its owner: not approved.
  EXPECT_EQ(f["payments docs.6.3.1/L1/1.approved"].value, scorer::Value(false));
  EXPECT_EQ(f["payments document.6.3.1/L1/1"].value, scorer::Value(false));
  // README (no front-matter of ours), the broken file and hidden directories give nothing.
  EXPECT_FALSE(f.count("payments document.6.7.1/L1/1"));
  EXPECT_EQ(f.size(), 4u * 4u);
}

TEST_F(DocsCollectorTest, FrontMatterIsTheBlockBetweenTheFirstTwoMarkers) {
  EXPECT_EQ(frontMatter("---\na: 1\n---\nbody\n---\n", false), "a: 1\n");
  EXPECT_EQ(frontMatter("\xEF\xBB\xBF---\r\na: 1\r\n...\r\n", false), "a: 1\r\n");
  EXPECT_EQ(frontMatter("# title\n---\na: 1\n---\n", false), "");
  EXPECT_EQ(frontMatter("---\na: 1\n", false), "") << "never closed";
  EXPECT_EQ(frontMatter("a: 1\n", true), "a: 1\n");
}

TEST_F(DocsCollectorTest, AnApprovedDocumentCountsForTheCriterionInTheScore) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto config = agent::loadConfig(
      dir_.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                  "/rules\nrequire_approval: true\nsystems: [payments]\n"
                                  "collectors:\n  - {name: ops-docs, type: docs, path: ops-docs, "
                                  "types: {drill_plan: [6.7.4/L1/1]}}\n"),
      registry);
  ASSERT_TRUE(config) << config.error().message;
  auto agent = agent::Agent::create(std::move(*config));
  ASSERT_TRUE(agent) << agent.error().message;
  auto polls = (*agent)->pollAll();
  ASSERT_TRUE(polls[0].ok) << polls[0].error;
  (*agent)->rescore();
  auto s = (*agent)->explainedScore("payments");
  ASSERT_TRUE(s);
  std::map<std::string, const scorer::CriterionResult*> by_id;
  for (const auto& item : s->items) {
    for (const auto& c : item.criteria) by_id[c.criterion->id] = &c;
  }
  EXPECT_EQ(by_id["6.7.4/L1/2"]->state, scorer::CriterionState::kPass);
  EXPECT_NE(by_id["6.7.4/L1/2"]->reason.find("documented: commit " + commit_), std::string::npos)
      << by_id["6.7.4/L1/2"]->reason;
  // Past its review date, or approved by its owner: unknown, saying why.
  EXPECT_EQ(by_id["6.7.4/L1/1"]->state, scorer::CriterionState::kUnknown);
  EXPECT_NE(by_id["6.7.4/L1/1"]->reason.find("its document does not count"), std::string::npos);
  EXPECT_EQ(by_id["6.3.1/L1/1"]->state, scorer::CriterionState::kUnknown);
  // The fast path agrees.
  for (const auto& sys : (*agent)->scores()) {
    for (const auto& item : sys.items) {
      for (const auto& c : item.criteria) {
        if (c.criterion->id == "6.7.4/L1/2") {
          EXPECT_EQ(c.state, scorer::CriterionState::kPass);
        }
        if (c.criterion->id == "6.7.4/L1/1") {
          EXPECT_EQ(c.state, scorer::CriterionState::kUnknown);
        }
      }
    }
  }
}

TEST(DocsCollectorConfig, ErrorsNameTheField) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  for (const auto& [yaml, expect] : std::vector<std::pair<std::string, std::string>>{
           {"{name: d, type: docs}", "field 'path'"},
           {"{name: d, type: docs, path: x, types: [a]}", "field 'types'"},
           {"{name: d, type: docs, path: x, types: {plan: []}}", "types.plan"},
           {"{name: d, type: docs, path: x, repo: y}", "repo"},
       }) {
    auto config = agent::loadConfig(
        dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                   "/rules\ncollectors:\n  - " + yaml + "\n"),
        registry);
    ASSERT_FALSE(config) << yaml;
    EXPECT_NE(config.error().message.find(expect), std::string::npos)
        << expect << " <- " << config.error().message;
  }
}

}  // namespace
}  // namespace opsm::collectors::docs
