// The collectors that read local things: exec plugins (real child processes, including the
// shipped sample plugin), facts files, and a real git repository made by the test.
#include <gtest/gtest.h>

#include <map>

#include "collectors/collector.h"
#include "collectors/common/subprocess.h"
#include "common/yaml_util.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using Facts = std::map<std::pair<std::string, std::string>, scorer::Value>;

Result<std::unique_ptr<collectors::Collector>> build(const std::string& yaml,
                                                     const std::string& file = "agent.yml") {
  collectors::Registry registry;
  EXPECT_TRUE(collectors::registerAll(registry).ok());
  auto node = loadYamlString(yaml, file);
  EXPECT_TRUE(node) << node.error().message;
  return registry.find((*node)["type"].Scalar())->create({"c", file, *node});
}

Result<Facts> collect(collectors::Collector& c, TimePoint now = Clock::now()) {
  collectors::CollectContext ctx;
  ctx.now = now;
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto facts = c.collect(ctx);
  if (!facts) return facts.error();
  Facts out;
  for (auto& f : *facts) out[{f.system, f.key}] = f.value;
  return out;
}

TEST(ExecCollector, TheSamplePluginReportsDrillReports) {
  testing::TempDir dir;
  dir.write("drills/payments-2026-10-12.pdf", "x");
  dir.write("drills/payments-2026-11-01.md", "x");
  dir.write("drills/ledger-2026-01-01.txt", "x");
  dir.write("drills/README", "not a report");
  auto c = build("type: exec\ncommand: ['" + std::string(OPSM_SOURCE_DIR) +
                 "/config/plugins/opsm-plugin-drill-reports', '" +
                 (dir.path() / "drills").string() + "']\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = collect(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->size(), 4u);
  EXPECT_EQ(facts->at({"payments", "plugin.drill.reports"}), scorer::Value(2));
  EXPECT_EQ(facts->at({"ledger", "plugin.drill.reports"}), scorer::Value(1));
  EXPECT_GT(facts->at({"ledger", "plugin.drill.last_report_age_seconds"}).asNumber(),
            facts->at({"payments", "plugin.drill.last_report_age_seconds"}).asNumber());
}

TEST(ExecCollector, TypedValuesAndNoShell) {
  auto c = build(
      "type: exec\ncommand: [printf, '%s%.0s', "
      "'{\"facts\": [{\"system\": \"p\", \"key\": \"plugin.a.flag\", \"value\": true},"
      "{\"system\": \"p\", \"key\": \"plugin.a.n\", \"value\": 2.5},"
      "{\"system\": \"p\", \"key\": \"plugin.a.s\", \"value\": \"true\"},"
      "{\"system\": \"p\", \"key\": \"plugin.a.l\", \"value\": [\"x\", \"y\"]}]}', '; exit 1']\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = collect(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"p", "plugin.a.flag"}), scorer::Value(true));
  EXPECT_EQ(facts->at({"p", "plugin.a.n"}), scorer::Value(2.5));
  EXPECT_EQ(facts->at({"p", "plugin.a.s"}), scorer::Value("true"));
  EXPECT_EQ(facts->at({"p", "plugin.a.l"}), scorer::Value(scorer::StringList{"x", "y"}));
}

TEST(ExecCollector, BadPluginsAreClearErrors) {
  struct Case {
    std::string command;
    std::string expect;
  };
  for (const auto& k : std::vector<Case>{
           {"[sh, -c, 'echo broken >&2; exit 3']", "exit 3: broken"},
           {"[printf, '{\"facts\": [']", "output"},
           {"[printf, '{\"facts\": [{\"system\": \"p\", \"key\": \"monitoring.x\", \"value\": 1}]}']",
            "must start with plugin."},
           {"[printf, '{\"facts\": [{\"system\": \"p\", \"key\": \"plugin.x\", \"value\": {\"a\": 1}}]}']",
            "facts[0].value"},
           {"[printf, '[1, 2]']", "'facts' list"},
           {"[sleep, '10']", "no result within"},
           {"[yes]", "larger than"},
           {"[opsm-no-such-plugin]", "cannot run"},
       }) {
    auto c = build("type: exec\ntimeout: 1s\nmax_output_bytes: 4096\ncommand: " + k.command + "\n");
    ASSERT_TRUE(c) << c.error().message;
    collectors::CollectContext ctx;
    ctx.now = Clock::now();
    ctx.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    auto facts = (*c)->collect(ctx);
    ASSERT_FALSE(facts) << k.command;
    EXPECT_NE(facts.error().message.find(k.expect), std::string::npos)
        << k.command << " -> " << facts.error().message;
  }
}

TEST(ExecCollector, ConfigErrorsNameTheField) {
  auto c = build("type: exec\ncommand: 'sh -c x'\n", "agent.yml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yml:2: field 'command'"), std::string::npos)
      << c.error().message;
  c = build("type: exec\ncommand: [x]\nshell: true\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("field 'shell'"), std::string::npos);
}

TEST(FileCollector, ReadsFactsFilesRelativeToTheConfig) {
  testing::TempDir dir;
  dir.write("facts.yaml",
            "facts:\n  - {system: payments, key: file.cmdb.owner_named, value: true}\n"
            "  - {system: payments, key: file.cmdb.tier, value: '1'}\n");
  std::string config = dir.write("agent.yml", "");
  auto c = build("type: file\npath: facts.yaml\n", config);
  ASSERT_TRUE(c) << c.error().message;
  auto facts = collect(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "file.cmdb.owner_named"}), scorer::Value(true));
  EXPECT_EQ(facts->at({"payments", "file.cmdb.tier"}), scorer::Value("1"));

  // The file changes: the next poll follows. A broken file is an error naming its line.
  dir.write("facts.yaml", "facts:\n  - {system: payments, key: file.cmdb.owner_named, value: false}\n");
  facts = collect(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "file.cmdb.owner_named"}), scorer::Value(false));
  dir.write("facts.yaml", "facts:\n  - {system: payments, value: 1}\n");
  facts = collect(**c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("facts.yaml:2"), std::string::npos)
      << facts.error().message;
  EXPECT_NE(facts.error().message.find("facts[0].key"), std::string::npos);
  std::filesystem::remove(dir.path() / "facts.yaml");
  facts = collect(**c);
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().code, ErrorCode::kNotFound);
}

class GitCollectorTest : public ::testing::Test {
 protected:
  void git(std::vector<std::string> args, const std::string& date = "2026-11-20T10:00:00Z") {
    std::vector<std::string> argv{"git", "-C", repo()};
    argv.insert(argv.end(), args.begin(), args.end());
    collectors::CommandOptions opts;
    opts.env = {{"GIT_AUTHOR_DATE", date},        {"GIT_COMMITTER_DATE", date},
                {"GIT_AUTHOR_NAME", "t"},         {"GIT_AUTHOR_EMAIL", "t@example.invalid"},
                {"GIT_COMMITTER_NAME", "t"},      {"GIT_COMMITTER_EMAIL", "t@example.invalid"},
                {"GIT_CONFIG_NOSYSTEM", "1"},     {"HOME", dir_.path().string()}};
    auto r = collectors::runCommand(argv, opts);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->exit_code, 0) << args[0] << ": " << r->err;
  }
  std::string repo() const { return (dir_.path() / "repo").string(); }
  testing::TempDir dir_;
};

TEST_F(GitCollectorTest, HistoryWithinTheWindowFollowsTheRepository) {
  std::filesystem::create_directories(repo());
  git({"init", "-q", "-b", "main"});
  dir_.write("repo/app.yaml", "replicas: 1\n");
  git({"add", "."});
  git({"commit", "-q", "-m", "old change"}, "2026-01-01T00:00:00Z");
  dir_.write("repo/app.yaml", "replicas: 2\n");
  git({"commit", "-q", "-am", "scale up"});
  git({"tag", "v1"});
  git({"revert", "--no-edit", "HEAD"}, "2026-11-21T10:00:00Z");

  auto c = build("type: git\nsystem: payments\nrepository: " + repo() + "\nwindow: 30d\n");
  ASSERT_TRUE(c) << c.error().message;
  TimePoint now = *parseTimestamp("2026-11-25T00:00:00Z");
  auto facts = collect(**c, now);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "change.git.commits"}), scorer::Value(2));
  EXPECT_EQ(facts->at({"payments", "change.git.reverts"}), scorer::Value(1));
  EXPECT_EQ(facts->at({"payments", "change.git.revert_ratio"}), scorer::Value(0.5));
  EXPECT_EQ(facts->at({"payments", "change.git.merges"}), scorer::Value(0));
  EXPECT_EQ(facts->at({"payments", "change.git.tags"}), scorer::Value(1));
  EXPECT_DOUBLE_EQ(facts->at({"payments", "change.git.last_commit_age_seconds"}).asNumber(),
                   3 * 86400 + 14 * 3600);

  // A merged feature branch shows as a merge.
  git({"checkout", "-q", "-b", "feature"});
  dir_.write("repo/b.yaml", "b: 1\n");
  git({"add", "."});
  git({"commit", "-q", "-m", "feature"}, "2026-11-22T10:00:00Z");
  git({"checkout", "-q", "main"});
  git({"merge", "-q", "--no-ff", "-m", "Merge feature", "feature"}, "2026-11-22T11:00:00Z");
  facts = collect(**c, now);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "change.git.commits"}), scorer::Value(4));
  EXPECT_EQ(facts->at({"payments", "change.git.merges"}), scorer::Value(1));
}

TEST_F(GitCollectorTest, NotARepositoryIsAnError) {
  std::filesystem::create_directories(repo());
  auto c = build("type: git\nsystem: payments\nrepository: " + repo() + "\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = collect(**c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("not a git repository"), std::string::npos)
      << facts.error().message;
}

}  // namespace
}  // namespace opsm
