// The store file is the agent's alone and is never silently reset: a second agent on it, an
// empty (truncated) file, a file that is not a store, and a newer schema are refused with an
// error naming the file; an unversioned store of an older agent is migrated, its rows kept.
#include "agent/store/store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "agent/core/agent.h"
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

// Round trips: what is written is read back exactly.

const TimePoint kT0 = TimePoint(std::chrono::seconds(1'800'000'000));

scorer::Evidence evidence(const std::string& system, const std::string& key, scorer::Value v) {
  scorer::Evidence e;
  e.system = system;
  e.key = key;
  e.value = std::move(v);
  e.source = scorer::Source{"prom", "GET /api/v1/query?query=up"};
  e.observed_at = kT0;
  e.expires_at = kT0 + std::chrono::hours(1);
  return e;
}

std::vector<scorer::SystemScore> oneItem(const std::string& system, int level, double progress) {
  scorer::SystemScore s;
  s.system = system;
  scorer::ItemScore item;
  item.item = "6.1.1";
  item.level = level;
  item.progress = progress;
  s.items.push_back(item);
  return {s};
}

using CS = scorer::CriterionState;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::open(path_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void reopen() {
    store_.reset();
    auto s = Store::open(path_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  testing::TempDir dir_;
  const std::string path_ = (dir_.path() / "s.db").string();
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, EvidenceOfEveryValueTypeRoundTripsAndReplacesOnlyItsCollector) {
  std::vector<scorer::Evidence> ev = {
      evidence("payments", "a.bool", scorer::Value(true)),
      evidence("payments", "a.number", scorer::Value(0.25)),
      evidence("支付", "a.string", scorer::Value(std::string("含 \"引号\" 的值"))),
      evidence("*", "a.list", scorer::Value(scorer::StringList{"x", "y"})),
  };
  ASSERT_TRUE(store_->replaceEvidence("prom", ev));
  auto other = evidence("shop", "b.x", scorer::Value(1.0));
  other.source.collector = "zbx";
  ASSERT_TRUE(store_->replaceEvidence("zbx", {other}));
  // A new poll of prom replaces all it said before, and nothing of zbx.
  ASSERT_TRUE(store_->replaceEvidence("prom", {ev[0], ev[1], ev[2], ev[3]}));
  reopen();
  auto loaded = store_->loadEvidence();
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 5u);
  std::map<std::string, scorer::Evidence> by_key;
  for (auto& e : *loaded) by_key[e.key] = e;
  EXPECT_TRUE(by_key.at("a.bool").value.asBool());
  EXPECT_EQ(by_key.at("a.number").value.asNumber(), 0.25);
  EXPECT_EQ(by_key.at("a.string").value.asString(), "含 \"引号\" 的值");
  EXPECT_EQ(by_key.at("a.string").system, "支付");
  EXPECT_EQ(by_key.at("a.list").value.asList(), (scorer::StringList{"x", "y"}));
  EXPECT_EQ(by_key.at("a.list").system, "*");
  EXPECT_EQ(by_key.at("a.bool").source.collector, "prom");
  EXPECT_EQ(by_key.at("a.bool").source.locator, "GET /api/v1/query?query=up");
  EXPECT_EQ(by_key.at("a.bool").observed_at, kT0);
  EXPECT_EQ(by_key.at("a.bool").expires_at, kT0 + std::chrono::hours(1));
  EXPECT_EQ(by_key.at("b.x").source.collector, "zbx");
  ASSERT_TRUE(store_->replaceEvidence("prom", {}));
  EXPECT_EQ(store_->loadEvidence()->size(), 1u);
}

TEST_F(StoreTest, BaselinesRoundTripExactlyAndRemovedOnesAreForgotten) {
  std::vector<Store::Baseline> b = {
      {"payments", "6.1.1", 2, {{"6.1.1/L1/1", CS::kPass}, {"6.1.1/L2/1", CS::kUnknown},
                                {"6.1.1/L3/1", CS::kNotApplicable}, {"6.1.1/L3/2", CS::kFail}},
       false},
      {"payments", "6.2.1", 1, {{"6.2.1/L1/1", CS::kPass}}, false},
  };
  ASSERT_TRUE(store_->recordScores({}, b, kT0));
  // A later change of one, and the other gone from the rule pack.
  b[0].states["6.1.1/L2/1"] = CS::kPass;
  b[1].removed = true;
  ASSERT_TRUE(store_->recordScores({}, b, kT0));
  reopen();
  auto items = store_->loadItemStates();
  ASSERT_TRUE(items) << items.error().message;
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].system, "payments");
  EXPECT_EQ((*items)[0].item, "6.1.1");
  EXPECT_EQ((*items)[0].level, 2);
  EXPECT_EQ((*items)[0].states, b[0].states);
}

TEST_F(StoreTest, AnUnreadableBaselineIsAnErrorNotASilentlyShorterOne) {
  ASSERT_TRUE(store_->recordScores({}, {{"payments", "6.1.1", 1, {{"6.1.1/L1/1", CS::kPass}}, false}},
                                   kT0));
  execSql(path_, "UPDATE item_state SET states = '6.1.1/L1/1=pass\n6.1.1/L2/1=maybe\n'");
  auto items = store_->loadItemStates();
  ASSERT_FALSE(items);
  EXPECT_NE(items.error().message.find("payments 6.1.1"), std::string::npos)
      << items.error().message;
  EXPECT_NE(items.error().message.find("6.1.1/L2/1=maybe"), std::string::npos);
}

TEST_F(StoreTest, HistoryHasARowPerChangeOfLevelOrProgress) {
  ASSERT_TRUE(store_->recordScores(oneItem("payments", 1, 1.5), {}, kT0));
  ASSERT_TRUE(store_->recordScores(oneItem("payments", 1, 1.5), {}, kT0 + std::chrono::minutes(1)));
  ASSERT_TRUE(store_->recordScores(oneItem("payments", 2, 2.0), {}, kT0 + std::chrono::minutes(2)));
  auto h = store_->loadHistory("payments");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].level, 1);
  EXPECT_EQ((*h)[0].progress, 1.5);
  EXPECT_EQ((*h)[1].level, 2);
  EXPECT_EQ((*h)[1].at, kT0 + std::chrono::minutes(2));
  EXPECT_TRUE(store_->loadHistory("shop")->empty());
}

// A write that fails half-way keeps nothing, leaves no transaction open, is counted, and is
// written whole by the next call.
TEST_F(StoreTest, AFailedWriteIsRolledBackWholeAndTheNextOneWritesIt) {
  execSql(path_, "CREATE TRIGGER injected BEFORE INSERT ON score_history "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");
  const std::vector<Store::Baseline> b = {{"payments", "6.1.1", 1, {{"6.1.1/L1/1", CS::kPass}}, false}};
  auto st = store_->recordScores(oneItem("payments", 1, 1.0), b, kT0);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("injected failure"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(path_), std::string::npos);
  EXPECT_EQ(store_->errors(), 1u);
  // The baseline, written before the failing history row, is not kept.
  EXPECT_TRUE(store_->loadItemStates()->empty());
  // No transaction left open: another write commits (seen by a new connection).
  ASSERT_TRUE(store_->replaceEvidence("prom", {evidence("payments", "a.b", scorer::Value(true))}));
  EXPECT_EQ(pragma(path_, "SELECT count(*) FROM evidence"), 1);
  execSql(path_, "DROP TRIGGER injected");
  ASSERT_TRUE(store_->recordScores(oneItem("payments", 1, 1.0), b, kT0));
  EXPECT_EQ(store_->loadItemStates()->size(), 1u);
  EXPECT_EQ(store_->loadHistory("payments")->size(), 1u);  // not skipped as "already recorded"
  EXPECT_EQ(store_->errors(), 1u);
}

TEST_F(StoreTest, RecordsAndTheAuditLogRoundTripAndTheLogIsAppendOnly) {
  Store::AuditEntry a{0, kT0, "wang.fang", "attestation.approve", "payments",
                      "attestation #1 (payments 6.7.4/L1/2)", R"({"state":"pending"})",
                      R"({"state":"approved"})"};
  ASSERT_TRUE(store_->write({{Store::Table::kAttestations, 1, "payments", "6.7.4/L1/2", "approved",
                              R"({"id":1})"},
                             {Store::Table::kWaivers, 7, "payments", "6.3.1/L3/1", "pending",
                              R"({"id":7})"}},
                            {a}, kT0));
  reopen();
  EXPECT_EQ(*store_->loadRecords(Store::Table::kAttestations), std::vector<std::string>{R"({"id":1})"});
  EXPECT_EQ(*store_->loadRecords(Store::Table::kWaivers), std::vector<std::string>{R"({"id":7})"});
  auto log = store_->loadAudit("payments", 0, 10);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].actor, "wang.fang");
  EXPECT_EQ((*log)[0].before, a.before);
  EXPECT_EQ((*log)[0].after, a.after);
  EXPECT_EQ((*log)[0].at, kT0);
  EXPECT_TRUE(store_->loadAudit("shop", 0, 10)->empty());
  // SQLite itself refuses to change the log, and pruning never touches it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit SET actor = 'x'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ASSERT_TRUE(store_->prune(kT0 + std::chrono::hours(24 * 365)));
  EXPECT_EQ(store_->loadAudit("", 0, 10)->size(), 1u);
}

TEST_F(StoreTest, PruneDeletesOnlyOldHistoryAndRegressions) {
  ASSERT_TRUE(store_->recordScores(oneItem("payments", 2, 2.0), {}, kT0));
  ASSERT_TRUE(store_->recordScores(oneItem("payments", 1, 1.0), {}, kT0 + std::chrono::hours(2)));
  scorer::RegressionEvent r{"payments", "6.1.1", 2, 1, kT0 + std::chrono::hours(2), {{"x", "y"}}};
  ASSERT_TRUE(store_->recordRegressions({r}));
  ASSERT_TRUE(store_->prune(kT0 + std::chrono::hours(1)));
  auto h = store_->loadHistory("payments");
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].level, 1);
  EXPECT_EQ(pragma(path_, "SELECT count(*) FROM regressions"), 1);
  ASSERT_TRUE(store_->prune(kT0 + std::chrono::hours(3)));
  EXPECT_EQ(pragma(path_, "SELECT count(*) FROM regressions"), 0);
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// The file's 4 KiB pages after the first (the header and schema) overwritten with garbage.
void damagePages(const std::string& path) {
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 2 * 4096u);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(4096);
  const std::string junk(size - 4096, '\xa5');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

std::vector<scorer::Evidence> manyEvidence() {
  std::vector<scorer::Evidence> ev;
  for (int i = 0; i < 300; ++i) {
    ev.push_back(evidence("payments", "k." + std::to_string(i), scorer::Value(std::string(64, 'v'))));
  }
  return ev;
}

// A store with a damaged page used to open (ready 200) and take writes into the damaged
// file; now the start is refused, saying how to recover, and `store check` finds it.
TEST(StoreFile, ADamagedStoreIsRefusedAtStartSayingHowToRecover) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->replaceEvidence("c", manyEvidence()));
  }
  auto sound = Store::check(path);
  ASSERT_TRUE(sound) << sound.error().message;
  EXPECT_TRUE(sound->empty());
  damagePages(path);
  auto store = Store::open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("the store is damaged"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("docs/deploy.md#a-damaged-store"), std::string::npos);
  auto reader = Store::open(path, Store::Access::kReadOnly);
  EXPECT_FALSE(reader);
  auto problems = Store::check(path);
  ASSERT_TRUE(problems) << problems.error().message;
  EXPECT_FALSE(problems->empty());
}

// Another program's database was switched to WAL (its header changed for good) before its
// application_id was read and it was refused. Now it is identified first and left as it was.
TEST(StoreFile, AnotherProgramsDatabaseIsRefusedBeforeAnythingIsWritten) {
  testing::TempDir dir;
  const std::string other = (dir.path() / "other.db").string();
  execSql(other, "CREATE TABLE t (x); PRAGMA application_id = 1234;");
  std::string before;
  {
    std::ifstream in(other, std::ios::binary);
    before.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_FALSE(Store::open(other));
  std::ifstream in(other, std::ios::binary);
  std::string after(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(after, before);  // the header's bytes 18-19 would be 2 (WAL) had it been changed
  EXPECT_FALSE(std::filesystem::exists(other + "-wal"));
}

// Damage found while running (a read or write failing SQLITE_CORRUPT) marks the store.
TEST(StoreFile, DamageFoundWhileRunningMarksTheStoreCorrupt) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "s.db").string();
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->replaceEvidence("c", manyEvidence()));
  }
  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE((*store)->corrupt());
  // Another connection holds page 1 (the schema) and writes it into the WAL after the rest
  // of the file is damaged: the agent's connection then drops its cache and reads the damage.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "PRAGMA user_version", nullptr, nullptr, nullptr), SQLITE_OK);
  damagePages(path);
  sqlite3_exec(other, "PRAGMA user_version=2", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  auto read = (*store)->loadEvidence();
  auto wrote = (*store)->replaceEvidence("c", manyEvidence());
  EXPECT_TRUE(!read || !wrote);
  EXPECT_TRUE((*store)->corrupt());
}

}  // namespace
}  // namespace opsm::agent
