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
  auto read = [](const std::string& yaml) {
    return readRepositoryKeys("agent.yml", YAML::Load(yaml), "system_tag", "set exactly one",
                              "restic", true);
  };
  auto ok = read("{repository: /r, system_tag: app}");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->repository, "/r");
  EXPECT_EQ(ok->owner, "app");
  EXPECT_EQ(ok->command, "restic");
  EXPECT_TRUE(ok->check);
  auto both = read("{repository: /r, system: payments, system_tag: app}");
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("field 'system': set exactly one"), std::string::npos)
      << both.error().message;
  EXPECT_FALSE(read("{repository: /r}"));
  auto no_repo = read("{system: payments}");
  ASSERT_FALSE(no_repo);
  EXPECT_NE(no_repo.error().message.find("field 'repository': is required"), std::string::npos)
      << no_repo.error().message;
  auto bad_check = read("{repository: /r, system: p, check: maybe}");
  ASSERT_FALSE(bad_check);
  EXPECT_NE(bad_check.error().message.find("check"), std::string::npos);
}

}  // namespace
}  // namespace opsm::collectors
