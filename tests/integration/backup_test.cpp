// The backup collectors against real repositories the test makes: restic and borg
// repositories in a temp dir, and pgBackRest backing up a real PostgreSQL cluster. Each test
// asserts the evidence matches what it set up, changes the setup, and asserts it follows.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "collectors/borg/borg_collector.h"
#include "collectors/collector.h"
#include "collectors/common/subprocess.h"
#include "collectors/pgbackrest/pgbackrest_collector.h"
#include "collectors/restic/restic_collector.h"
#include "common/yaml_util.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using Facts = std::map<std::pair<std::string, std::string>, scorer::Value>;

collectors::CollectContext context() {
  collectors::CollectContext ctx;
  ctx.now = Clock::now();
  ctx.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  return ctx;
}

const std::string kAny = scorer::kAnySystem;

std::unique_ptr<collectors::Collector> build(const std::string& yaml) {
  collectors::Registry registry;
  EXPECT_TRUE(collectors::registerAll(registry).ok());
  auto node = loadYamlString(yaml, "agent.yml");
  EXPECT_TRUE(node) << node.error().message;
  const auto* factory = registry.find((*node)["type"].Scalar());
  EXPECT_NE(factory, nullptr);
  auto c = factory->create({(*node)["name"].Scalar(), "agent.yml", *node});
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

Result<Facts> collect(collectors::Collector& c) {
  auto facts = c.collect(context());
  if (!facts) return facts.error();
  Facts out;
  for (auto& f : *facts) out[{f.system, f.key}] = f.value;
  return out;
}

// Runs a tool the way a backup job would; fails the test if it fails.
std::string run(const std::vector<std::string>& argv, std::map<std::string, std::string> env) {
  collectors::CommandOptions opts;
  opts.env = std::move(env);
  opts.timeout = std::chrono::seconds(120);
  auto r = collectors::runCommand(argv, opts);
  EXPECT_TRUE(r) << r.error().message;
  if (!r) return "";
  EXPECT_EQ(r->exit_code, 0) << argv[0] << " " << argv[1] << ": " << r->err;
  return r->out;
}

TEST(ResticIntegration, SnapshotsPerSystemTagFollowTheRepository) {
  testing::TempDir dir;
  std::string repo = (dir.path() / "repo").string();
  std::string pass = dir.write("pass", "s3cret-restic-pw\n");
  std::string data = dir.write("data/file", "payload");
  std::map<std::string, std::string> env{{"RESTIC_PASSWORD", "s3cret-restic-pw"},
                                         {"RESTIC_CACHE_DIR", (dir.path() / "cache").string()}};
  run({"restic", "init", "-q", "-r", repo}, env);
  run({"restic", "backup", "-q", "-r", repo, "--tag", "system=payments", data}, env);
  std::string ledger_snap =
      run({"restic", "backup", "-q", "--json", "-r", repo, "--tag", "system=ledger", data}, env);
  run({"restic", "backup", "-q", "-r", repo, "--tag", "system=payments", data}, env);

  auto c = build("name: restic\ntype: restic\nrepository: " + repo +
                 "\nsystem_tag: system\npassword_file: " + pass + "\n");
  ASSERT_NE(c, nullptr);
  auto facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "backup.restic.snapshots"}), scorer::Value(2));
  EXPECT_EQ(facts->at({"ledger", "backup.restic.snapshots"}), scorer::Value(1));
  // Any other system (crm): no snapshots, the default (scorer::kAnySystem).
  EXPECT_EQ(facts->count({"crm", "backup.restic.snapshots"}), 0u);
  EXPECT_EQ(facts->at({kAny, "backup.restic.snapshots"}), scorer::Value(0));
  EXPECT_EQ(facts->count({kAny, "backup.restic.newest_age_seconds"}), 0u);
  EXPECT_LT(facts->at({"payments", "backup.restic.newest_age_seconds"}).asNumber(), 300);
  EXPECT_EQ(facts->at({"payments", "backup.restic.check_ok"}), scorer::Value(true));
  EXPECT_EQ(facts->count({kAny, "backup.restic.check_ok"}), 0u);  // no backup to check

  // Forget the ledger snapshot: the evidence follows.
  auto snaps = run({"restic", "snapshots", "--json", "-r", repo, "--tag", "system=ledger"}, env);
  auto id_at = snaps.find("\"id\":\"");
  ASSERT_NE(id_at, std::string::npos) << snaps;
  std::string id = snaps.substr(id_at + 6, 64);
  run({"restic", "forget", "-q", "-r", repo, id}, env);
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->count({"ledger", "backup.restic.snapshots"}), 0u);  // now the default: 0
  EXPECT_EQ(facts->at({kAny, "backup.restic.snapshots"}), scorer::Value(0));
  EXPECT_EQ(facts->at({"payments", "backup.restic.snapshots"}), scorer::Value(2));

  // Damage the repository (truncate a pack file; a missing one would make restic retry its
  // backend for minutes): `restic check` fails and says so.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() / "repo/data")) {
    if (e.is_regular_file()) {
      std::filesystem::resize_file(e.path(), 10);
      break;
    }
  }
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "backup.restic.check_ok"}), scorer::Value(false));
}

TEST(ResticIntegration, WrongPasswordIsAnErrorWithoutTheSecret) {
  testing::TempDir dir;
  std::string repo = (dir.path() / "repo").string();
  run({"restic", "init", "-q", "-r", repo}, {{"RESTIC_PASSWORD", "right-password"}});
  std::string pass = dir.write("pass", "wrong-password-xyz\n");
  auto c = build("name: restic\ntype: restic\nrepository: " + repo +
                 "\nsystem: payments\npassword_file: " + pass + "\n");
  ASSERT_NE(c, nullptr);
  auto facts = collect(*c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("restic snapshots: exit"), std::string::npos)
      << facts.error().message;
  EXPECT_EQ(facts.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(facts.error().message.find("wrong-password-xyz"), std::string::npos);
}

TEST(BorgIntegration, ArchivesPerSystemFollowTheRepository) {
  testing::TempDir dir;
  std::string repo = (dir.path() / "repo").string();
  std::string pass = dir.write("pass", "borg-pass-phrase\n");
  std::string data = dir.write("data/file", "payload");
  std::map<std::string, std::string> env{
      {"BORG_PASSPHRASE", "borg-pass-phrase"},
      {"BORG_BASE_DIR", (dir.path() / "borghome").string()}};
  run({"borg", "init", "-e", "repokey", repo}, env);
  run({"borg", "create", repo + "::payments-2026-11-24", data}, env);
  run({"borg", "create", repo + "::payments-2026-11-25", data}, env);
  run({"borg", "create", repo + "::ledger-2026-11-25", data}, env);

  auto c = build("name: borg\ntype: borg\nrepository: " + repo +
                 "\narchive_regex: '^([a-z]+)-\\d{4}-'\ncheck: true\npassphrase_file: " + pass +
                 "\n");
  ASSERT_NE(c, nullptr);
  auto facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "backup.borg.archives"}), scorer::Value(2));
  EXPECT_EQ(facts->at({"ledger", "backup.borg.archives"}), scorer::Value(1));
  EXPECT_EQ(facts->count({"crm", "backup.borg.archives"}), 0u);
  EXPECT_EQ(facts->at({kAny, "backup.borg.archives"}), scorer::Value(0));
  EXPECT_EQ(facts->at({"payments", "backup.borg.encrypted"}), scorer::Value(true));
  EXPECT_EQ(facts->at({"payments", "backup.borg.check_ok"}), scorer::Value(true));
  EXPECT_GT(facts->at({"payments", "backup.borg.repository_bytes"}).asNumber(), 0);
  EXPECT_LT(facts->at({"payments", "backup.borg.repository_modified_age_seconds"}).asNumber(), 300);
  EXPECT_EQ(facts->count({kAny, "backup.borg.repository_bytes"}), 0u);
  double age = facts->at({"ledger", "backup.borg.newest_age_seconds"}).asNumber();
  EXPECT_GE(age, 0);
  EXPECT_LT(age, 300);

  run({"borg", "delete", repo + "::ledger-2026-11-25"}, env);
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->count({"ledger", "backup.borg.archives"}), 0u);  // now the default: 0
  EXPECT_EQ(facts->at({kAny, "backup.borg.archives"}), scorer::Value(0));
  EXPECT_EQ(facts->at({"payments", "backup.borg.archives"}), scorer::Value(2));
}

TEST(BorgIntegration, MissingRepositoryIsAnError) {
  testing::TempDir dir;
  auto c = build("name: borg\ntype: borg\nrepository: " + (dir.path() / "nope").string() +
                 "\nsystem: payments\n");
  ASSERT_NE(c, nullptr);
  auto facts = collect(*c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("borg list: exit"), std::string::npos)
      << facts.error().message;
}

TEST(PgBackRestIntegration, BackupsAndPointInTimeRecoveryOfARealCluster) {
  testing::TempDir dir;
  std::string base = (dir.path() / "pg").string();
  std::string conf_path = base + "/pgbackrest.conf";
  auto pg = testing::PostgresServer::primary(
      base, "archive_mode = on\narchive_command = 'pgbackrest --config=" + conf_path +
                " --stanza=main archive-push %p'\n");
  ASSERT_TRUE(pg->ok()) << pg->log();
  {
    std::ofstream conf(conf_path);
    conf << "[global]\nrepo1-path=" << base << "/repo\nlock-path=" << base
         << "/lock\nlog-path=" << base << "/log\nlog-level-console=warn\nlog-level-file=off\n"
         << "start-fast=y\nrepo1-retention-full=10\n[main]\npg1-path=" << pg->dataDir()
         << "\npg1-port=" << pg->port() << "\npg1-socket-path=" << pg->socketDir()
         << "\npg1-user=postgres\n";
  }
  auto backrest = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{"pgbackrest", "--config=" + conf_path, "--stanza=main"};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::runAs(argv, base + "/pgbackrest-" + args.front() + ".log");
  };
  ASSERT_EQ(backrest({"stanza-create"}), 0);

  auto c = build("name: pgbr\ntype: pgbackrest\nconfig_file: " + conf_path +
                 "\nstanzas: {main: payments}\ncheck: true\n");
  ASSERT_NE(c, nullptr);
  // A stanza with no backup yet: no recovery possible.
  auto facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.backups"}), scorer::Value(0));
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.pitr_possible"}), scorer::Value(false));

  ASSERT_EQ(backrest({"backup", "--type=full"}), 0);
  pg->psql("CREATE TABLE t(x int); INSERT INTO t VALUES (1);");
  ASSERT_EQ(backrest({"backup", "--type=incr"}), 0);
  {
    // Right after the backup the archive ends at its stop segment (the backup's own WAL): a
    // restore reaches that backup, not any later time. (Polled without `check`, which would
    // archive a fresh segment.)
    auto info_only = build("name: pgbr\ntype: pgbackrest\nconfig_file: " + conf_path +
                           "\nstanzas: {main: payments}\n");
    ASSERT_NE(info_only, nullptr);
    auto stopped = collect(*info_only);
    ASSERT_TRUE(stopped) << stopped.error().message;
    EXPECT_EQ(stopped->at({"payments", "backup.pgbackrest.wal_past_newest_backup"}),
              scorer::Value(false));
    EXPECT_EQ(stopped->at({"payments", "backup.pgbackrest.pitr_possible"}), scorer::Value(false));
  }
  ASSERT_EQ(pg->psql("SELECT pg_switch_wal() IS NOT NULL"), "t");
  // PostgreSQL archives the switched WAL segment asynchronously (its archiver runs
  // archive_command later): poll until the repository holds WAL past the newest backup, as the
  // agent's next poll would see it, on a loaded machine too.
  const bool archived = testing::waitFor(
      [&] {
        facts = collect(*c);
        return facts && facts->count({"payments", "backup.pgbackrest.pitr_possible"}) &&
               facts->at({"payments", "backup.pgbackrest.pitr_possible"}) == scorer::Value(true);
      },
      std::chrono::seconds(60));
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_TRUE(archived) << "no WAL archived past the newest backup within 60 s";
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.backups"}), scorer::Value(2));
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.full_backups"}), scorer::Value(1));
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.status_ok"}), scorer::Value(true));
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.pitr_possible"}), scorer::Value(true));
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.encrypted"}), scorer::Value(false));
  EXPECT_LT(facts->at({"payments", "backup.pgbackrest.newest_age_seconds"}).asNumber(), 300);
  // The full backup is the oldest: how far back a restore can go.
  EXPECT_GE(facts->at({"payments", "backup.pgbackrest.oldest_age_seconds"}).asNumber(),
            facts->at({"payments", "backup.pgbackrest.newest_age_seconds"}).asNumber());
  EXPECT_LT(facts->at({"payments", "backup.pgbackrest.oldest_age_seconds"}).asNumber(), 300);
  EXPECT_LT(facts->at({"payments", "backup.pgbackrest.newest_incr_age_seconds"}).asNumber(), 300);
  EXPECT_EQ(facts->count({"payments", "backup.pgbackrest.newest_diff_age_seconds"}), 0u);

  // Stop the database: `pgbackrest check` fails, the repository still shows the backups.
  pg->stop();
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.check_ok"}), scorer::Value(false));
  EXPECT_EQ(facts->at({"payments", "backup.pgbackrest.backups"}), scorer::Value(2));
}

}  // namespace
}  // namespace opsm
