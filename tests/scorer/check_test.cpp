// rules check on the shipped pack and on deliberately broken copies of it.
#include "scorer/check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "collectors/collector.h"
#include "scorer/standard_text.h"
#include "tests/support/temp_dir.h"

namespace opsm::scorer {
namespace {

namespace fs = std::filesystem;
const std::string kRules = std::string(OPSM_SOURCE_DIR) + "/rules";
const std::string kStandard = OPSM_STANDARD_TEXT;

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    collectors::Registry registry;
    ASSERT_TRUE(collectors::registerAll(registry).ok());
    auto c = registry.catalog();
    ASSERT_TRUE(c.ok());
    catalog_ = *c;
    fs::copy(kRules, copy_.path(), fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }

  std::string path(const std::string& name) { return (copy_.path() / name).string(); }

  void edit(const std::string& name, const std::string& from, const std::string& to) {
    std::ifstream in(path(name));
    std::stringstream buf;
    buf << in.rdbuf();
    std::string s = buf.str();
    auto pos = s.find(from);
    ASSERT_NE(pos, std::string::npos) << from;
    s.replace(pos, from.size(), to);
    std::ofstream(path(name), std::ios::trunc) << s;
  }

  std::vector<Problem> check() { return checkRulePack(copy_.path().string(), catalog_, kStandard); }

  // Expects exactly one problem, at `where`, mentioning `text`.
  void expectProblem(const std::string& where, const std::string& text) {
    auto problems = check();
    ASSERT_EQ(problems.size(), 1u) << (problems.empty() ? "no problem" : problems[0].describe());
    EXPECT_EQ(problems[0].where, where) << problems[0].describe();
    EXPECT_NE(problems[0].message.find(text), std::string::npos) << problems[0].describe();
  }

  EvidenceCatalog catalog_;
  testing::TempDir copy_;
};

TEST_F(CheckTest, ShippedPackPassesAgainstTheStandard) {
  auto problems = checkRulePack(kRules, catalog_, kStandard);
  for (const auto& p : problems) ADD_FAILURE() << p.describe();
  auto standard = parseStandardText(kStandard);
  ASSERT_TRUE(standard.ok()) << standard.error().message;
  EXPECT_EQ(standard->size(), 35u);
  size_t requirements = 0;
  for (const auto& item : *standard) {
    for (const auto& level : item.levels) requirements += level.requirements.size();
  }
  EXPECT_EQ(requirements, 407u) << "the standard's numbered requirements";
  EXPECT_EQ((*standard)[0].levels[0].requirements[0], "具备基础资源的监控指标和日志的采集能力。");
  EXPECT_TRUE((*standard)[10].levels[4].same_as_previous) << "6.2.5 level 5 is 同 4 级";
}

TEST_F(CheckTest, ChangedWordingIsReportedAtTheCriterion) {
  edit("6.1.3-data-storage.yaml", "zh: 提供独立的数据存储。", "zh: 提供独立数据存储。");
  expectProblem(path("6.1.3-data-storage.yaml") + ":5",
                "6.1.3/L1/1: zh differs from the standard's wording \"提供独立的数据存储。\"");
}

TEST_F(CheckTest, MissingRequirementIsReported) {
  edit("6.1.3-data-storage.yaml",
       "    - id: 6.1.3/L2/3\n      zh: 可存储多种数据结构和数据类型。\n"
       "      en: Can store multiple data structures and data types.\n"
       "      dimensions: [tools]\n      attestation: true\n",
       "");
  expectProblem(path("6.1.3-data-storage.yaml"),
                "requirement 6.1.3/L2/3 of the standard has no criterion");
}

TEST_F(CheckTest, ExtraCriterionIsReported) {
  edit("6.1.3-data-storage.yaml", "  5:\n",
       "    - id: 6.1.3/L4/3\n      zh: x\n      en: x\n      dimensions: [process]\n"
       "      attestation: true\n  5:\n");
  auto problems = check();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("6.1.3/L4/3 matches no numbered requirement"),
            std::string::npos)
      << problems[0].describe();
}

TEST_F(CheckTest, SameAsWhereTheStandardListsRequirements) {
  edit("6.1.3-data-storage.yaml", "  5:\n    - id: 6.1.3/L5/1", "  5: {same_as: 4}\n  6:\n    - id: 6.1.3/L5/1");
  auto problems = check();
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].message.find("'6' is not a level"), std::string::npos)
      << problems[0].describe();
}

TEST_F(CheckTest, UnknownEvidenceKey) {
  edit("6.1.3-data-storage.yaml", "monitoring.series, gt: 0", "monitoring.tsdb_series, gt: 0");
  expectProblem(path("6.1.3-data-storage.yaml") + ":12",
                "evidence key monitoring.tsdb_series is produced by no known collector");
}

// A rule naming a vendor key counts only for systems that vendor's tool watches: a warning
// that names the domain key to use, which leaves the pack valid.
TEST_F(CheckTest, AVendorKeyIsAWarningNamingItsDomainKey) {
  edit("6.1.3-data-storage.yaml", "monitoring.series, gt: 0",
       "monitoring.prometheus.tsdb_head_series, gt: 0");
  auto problems = check();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(problems[0].warning);
  EXPECT_EQ(problems[0].where, path("6.1.3-data-storage.yaml") + ":12");
  EXPECT_NE(problems[0].describe().find("warning: monitoring.prometheus.tsdb_head_series is a "
                                        "vendor key of prometheus; name the domain key "
                                        "monitoring.series"),
            std::string::npos)
      << problems[0].describe();
}

TEST_F(CheckTest, OperatorOfTheWrongTypeForTheKey) {
  edit("6.6.2-cache-high-availability.yaml", "{key: cache.append_log, eq: true}",
       "{key: cache.append_log, ge: 1}");
  expectProblem(path("6.6.2-cache-high-availability.yaml") + ":26",
                "is a bool (from domain): ordering needs a number key");
}

// Every `when` says why its evidence shows the requirement; hints name known keys.
TEST_F(CheckTest, AWhenWithoutRationaleAndAnUnknownHintAreReported) {
  edit("6.1.3-data-storage.yaml",
       "      rationale: \"A monitoring server collects the system's targets into its own store, "
       "which holds series: the data has a store of its own. A server that knows the system only "
       "by name (no targets of it, no series) does not count.\"\n",
       "");
  expectProblem(path("6.1.3-data-storage.yaml") + ":5", "6.1.3/L1/1: a `when` needs a one-line `rationale:`");
  fs::copy(std::string(kRules) + "/6.1.3-data-storage.yaml", path("6.1.3-data-storage.yaml"),
           fs::copy_options::overwrite_existing);
  edit("6.1.3-data-storage.yaml", "hints: [monitoring.remote_storage]",
       "hints: [monitoring.remote_writes]");
  expectProblem(path("6.1.3-data-storage.yaml") + ":15",
                "hint monitoring.remote_writes is produced by no known collector");
}

// Every criterion names its dimensions of the standard (people, process, tools).
TEST_F(CheckTest, ACriterionWithoutDimensionsIsReported) {
  edit("6.1.3-data-storage.yaml", "      en: Provides an independent data store.\n      dimensions: [tools]\n",
       "      en: Provides an independent data store.\n");
  expectProblem(path("6.1.3-data-storage.yaml") + ":5", "6.1.3/L1/1: `dimensions:` names none");
  fs::copy(std::string(kRules) + "/6.1.3-data-storage.yaml", path("6.1.3-data-storage.yaml"),
           fs::copy_options::overwrite_existing);
  edit("6.1.3-data-storage.yaml", "      dimensions: [tools]\n", "      dimensions: [tooling]\n");
  auto problems = check();
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].message.find("'tooling' is not people, process or tools"), std::string::npos)
      << problems[0].describe();
}

TEST_F(CheckTest, MissingItemFileAndBrokenFileAreAllReported) {
  fs::remove(path("6.9.9-system-profile.yaml"));
  edit("6.1.6-alert-governance.yaml", "ge: 1}", "gee: 1}");
  auto problems = check();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].where, path("6.1.6-alert-governance.yaml") + ":11");
  EXPECT_NE(problems[0].message.find("field 'gee': unknown operator"), std::string::npos)
      << problems[0].describe();
  EXPECT_NE(problems[1].message.find("item 6.9.9 系统画像 (System profile) has no rule file"),
            std::string::npos)
      << problems[1].describe();
}

}  // namespace
}  // namespace opsm::scorer

namespace opsm {
namespace {

// Every collector type has docs/collectors/<type>.md. It lists every evidence key the type
// declares, and its "Configuration keys" section is the one generated from the type's schema
// (scripts/dev/gen_collector_docs.py writes it).
TEST(CollectorDocs, EveryTypeDocumentsItsConfigAndEvidenceKeys) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  for (const auto& type : registry.types()) {
    std::string path = std::string(OPSM_SOURCE_DIR) + "/docs/collectors/" + type + ".md";
    std::ifstream in(path);
    ASSERT_TRUE(in) << "missing " << path;
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& spec : registry.find(type)->evidenceKeys()) {
      EXPECT_NE(text.str().find("`" + spec.key + "`"), std::string::npos)
          << path << " does not document " << spec.key;
      if (!spec.domain.empty()) {
        EXPECT_NE(text.str().find("`" + spec.key + "` | " + scorer::valueTypeName(spec.type) +
                                  " | `" + spec.domain + "`"),
                  std::string::npos)
            << path << " does not say that " << spec.key << " maps to " << spec.domain;
      }
    }
    const std::string section = registry.find(type)->configSchema().markdown();
    EXPECT_NE(text.str().find(section), std::string::npos)
        << path << " does not have the generated config keys (run "
        << "scripts/dev/gen_collector_docs.py):\n"
        << section;
  }
}

// create() checks every entry against the type's schema before the factory sees it.
TEST(CollectorFactory, EveryTypeRefusesAKeyItsSchemaDoesNotHave) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  for (const auto& type : registry.types()) {
    const YAML::Node entry = YAML::Load("{type: " + type + ", interval: 1m,\n bogus_key: 1}");
    auto c = registry.find(type)->create({"c", "agent.yml", entry});
    ASSERT_FALSE(c) << type << " accepted an unknown key";
    EXPECT_NE(c.error().message.find("agent.yml:2: field 'bogus_key': unknown key for a"),
              std::string::npos)
        << c.error().message;
    EXPECT_NE(c.error().message.find(" " + type + " collector (allowed: name, type, interval"),
              std::string::npos)
        << c.error().message;
  }
}

}  // namespace
}  // namespace opsm
