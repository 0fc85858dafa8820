// The store file is the agent's alone and is never silently reset: a second agent on it, an
// empty (truncated) file, a file that is not a store, and a newer schema are refused with an
// error naming the file; an unversioned store of an older agent is migrated, its rows kept.
#include "agent/store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "agent/agent.h"
#include "collectors/collector.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

long long pragma(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

void execSql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(StoreFile, ANewStoreIsCreatedWithItsIdentityAndSchemaVersion) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store) << store.error().message;
  }
  EXPECT_EQ(pragma(path, "PRAGMA application_id"), 0x4F50534D);
  EXPECT_EQ(pragma(path, "PRAGMA user_version"), Store::kSchemaVersion);
  EXPECT_FALSE(std::filesystem::exists(path + ".new." + std::to_string(getpid())));
  auto again = Store::open(path);  // closed, it opens again
  EXPECT_TRUE(again) << again.error().message;
}

TEST(StoreFile, ASecondOwnerIsRefusedInThisProcessAndInAnother) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  auto first = Store::open(path);
  ASSERT_TRUE(first) << first.error().message;
  auto second = Store::open(path);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find(path + ": the store is in use by another opsmaturity agent"),
            std::string::npos)
      << second.error().message;
  // Another process (as a second `opsmaturity run` would be) is refused by the lock.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto other = Store::open(path);
    _exit(!other && other.error().message.find("in use by another") != std::string::npos ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the other process opened it";
  // A reader (evidence export) beside the owner is fine.
  auto reader = Store::open(path, Store::Access::kReadOnly);
  EXPECT_TRUE(reader) << reader.error().message;
  // The owner still writes: the refused opens took none of its locks.
  EXPECT_TRUE((*first)->replaceEvidence("c", {}));
}

TEST(StoreFile, TwoAgentsOnOneStoreTheSecondFailsToStartNamingTheFile) {
  testing::TempDir dir;
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  const std::string config_path = dir.write(
      "agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                       "/rules\nsystems: [payments]\nstorage_path: " +
                       (dir.path() / "state.db").string() + "\ncollectors:\n  - {name: cmdb, type: file, path: " +
                       dir.write("facts.yml", "facts: []\n") + "}\n");
  auto cfg1 = loadConfig(config_path, registry);
  auto cfg2 = loadConfig(config_path, registry);
  ASSERT_TRUE(cfg1) << cfg1.error().message;
  ASSERT_TRUE(cfg2);
  auto a1 = Agent::create(std::move(*cfg1));
  ASSERT_TRUE(a1) << a1.error().message;
  auto a2 = Agent::create(std::move(*cfg2));
  ASSERT_FALSE(a2);
  EXPECT_NE(a2.error().message.find("state.db: the store is in use"), std::string::npos)
      << a2.error().message;
}

TEST(StoreFile, AnEmptyFileIsRefusedNotReset) {
  testing::TempDir dir;
  const std::string path = dir.write("s.db", "");
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("the store is empty (truncated?)"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(std::filesystem::file_size(path), 0u);  // untouched
}

TEST(StoreFile, AFileThatIsNotAStoreIsRefusedAndUntouched) {
  testing::TempDir dir;
  const std::string text = dir.write("notes.txt", "my notes, not a database\n");
  auto store = Store::open(text);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("not a SQLite database"), std::string::npos);
  std::ifstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "my notes, not a database");

  const std::string other = (dir.path() / "other.db").string();
  execSql(other, "CREATE TABLE invoices (id INTEGER);");
  store = Store::open(other);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("a SQLite database of another program"), std::string::npos)
      << store.error().message;

  const std::string foreign_id = (dir.path() / "foreign.db").string();
  execSql(foreign_id, "CREATE TABLE t (x); PRAGMA application_id = 1234;");
  store = Store::open(foreign_id);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("application_id 1234"), std::string::npos);
}

TEST(StoreFile, ANewerSchemaIsRefused) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  ASSERT_TRUE(Store::open(path));
  execSql(path, "PRAGMA user_version = " + std::to_string(Store::kSchemaVersion + 1));
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("written by a newer opsmaturity"), std::string::npos)
      << store.error().message;
}

TEST(StoreFile, AnUnversionedStoreOfAnOlderAgentIsMigratedWithItsRows) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  // The schema as agents before versioning wrote it, with one evidence row.
  execSql(path, R"sql(
    CREATE TABLE evidence (system TEXT NOT NULL, key TEXT NOT NULL, collector TEXT NOT NULL,
      locator TEXT NOT NULL, value TEXT NOT NULL, observed_at REAL NOT NULL,
      expires_at REAL NOT NULL, PRIMARY KEY (collector, system, key));
    CREATE TABLE item_state (system TEXT NOT NULL, item TEXT NOT NULL, level INTEGER NOT NULL,
      progress REAL NOT NULL, states TEXT NOT NULL, updated_at REAL NOT NULL,
      PRIMARY KEY (system, item));
    CREATE TABLE score_history (at REAL NOT NULL, system TEXT NOT NULL, item TEXT NOT NULL,
      level INTEGER NOT NULL, progress REAL NOT NULL);
    CREATE TABLE regressions (at REAL NOT NULL, system TEXT NOT NULL, item TEXT NOT NULL,
      old_level INTEGER NOT NULL, new_level INTEGER NOT NULL, flipped TEXT NOT NULL);
    INSERT INTO evidence VALUES ('payments', 'file.x', 'f', 'loc', 'true', 1.0, 4102444800.0);
  )sql");
  // A reader does not migrate: it asks for the agent to run once.
  auto reader = Store::open(path, Store::Access::kReadOnly);
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().message.find("start the agent once to migrate it"), std::string::npos);
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store) << store.error().message;
    auto ev = (*store)->loadEvidence();
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->size(), 1u);
    EXPECT_EQ((*ev)[0].key, "file.x");
  }
  EXPECT_EQ(pragma(path, "PRAGMA application_id"), 0x4F50534D);
  EXPECT_EQ(pragma(path, "PRAGMA user_version"), Store::kSchemaVersion);
}

}  // namespace
}  // namespace opsm::agent
