// The backups tally and repository keys shared by the restic and borg collectors.
#include "collectors/common/backups.h"

#include <gtest/gtest.h>

#include "common/yaml_util.h"

namespace opsm::collectors {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

TEST(BackupTally, CountsNewestAndOldestPerSystemAndKnownSystemsWithNone) {
  BackupTally t;
  t.add("payments", kNow - std::chrono::hours(30));
  t.add("payments", kNow - std::chrono::hours(2));
  t.add("payments", kNow - std::chrono::hours(5));
  t.known("billing");
  t.known("payments");  // known with backups: unchanged
  std::vector<scorer::Fact> facts;
  t.facts("backup.x.", "snapshots", kNow, "x list", &facts);
  std::map<std::pair<std::string, std::string>, scorer::Value> got;
  for (const auto& f : facts) {
    EXPECT_EQ(f.locator, "x list");
    got[{f.system, f.key}] = f.value;
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(got.at({"payments", "backup.x.snapshots"}), scorer::Value(3));
  EXPECT_EQ(got.at({"payments", "backup.x.newest_age_seconds"}), scorer::Value(7200));
  EXPECT_EQ(got.at({"payments", "backup.x.oldest_age_seconds"}), scorer::Value(30 * 3600));
  EXPECT_EQ(got.at({"billing", "backup.x.snapshots"}), scorer::Value(0));
  EXPECT_EQ(got.count({"billing", "backup.x.newest_age_seconds"}), 0u) << "no backup, no age";
}

TEST(RepositoryKeys, ExactlyOneOfSystemAndOwnerKeyAndTheRepositoryIsRequired) {
  const ConfigSchema schema("restic", repositoryKeys("restic", "repo", true, "check", "system_tag", "tag"),
                            {repositoryOwner("system_tag", "set exactly one")});
  auto check = [&](const std::string& yaml) { return schema.check("agent.yml", YAML::Load(yaml)); };
  const YAML::Node entry = YAML::Load("{repository: /r, system_tag: app}");
  auto ok = schema.check("agent.yml", entry);
  ASSERT_TRUE(ok) << ok.error().message;
  const ConfigReader read(schema, "r", "agent.yml", entry);
  EXPECT_EQ(read.string("repository"), "/r");
  EXPECT_EQ(read.string("system_tag"), "app");
  EXPECT_EQ(read.string("command"), "restic");
  EXPECT_TRUE(read.flag("check"));
  auto both = check("{repository: /r, system: payments, system_tag: app}");
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("field 'system': set exactly one"), std::string::npos)
      << both.error().message;
  EXPECT_FALSE(check("{repository: /r}"));
  auto no_repo = check("{system: payments}");
  ASSERT_FALSE(no_repo);
  EXPECT_NE(no_repo.error().message.find("field 'repository': is required"), std::string::npos)
      << no_repo.error().message;
  auto bad_check = check("{repository: /r, system: p, check: maybe}");
  ASSERT_FALSE(bad_check);
  EXPECT_NE(bad_check.error().message.find("field 'check': must be true or false"), std::string::npos);
}

}  // namespace
}  // namespace opsm::collectors
