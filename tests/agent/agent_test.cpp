// The agent core without servers: declared systems, attestations, reloads.
#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "agent/store/store.h"

#include <sys/resource.h>

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>

#include <sqlite3.h>

#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

namespace fs = std::filesystem;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(collectors::registerAll(registry_).ok()); }

  Result<std::unique_ptr<Agent>> make(const std::string& attestations) {
    att_path_ = dir_.write("attestations.yaml", attestations);
    std::string config = "rules_dir: " + std::string(OPSM_SOURCE_DIR) + "/rules\n" +
                         "attestations_file: attestations.yaml\n"
                         "systems:\n  - {name: web, frontend: true}\n  - {name: api, frontend: false}\n"
                         "  - batch\n"
                         "collectors:\n  - type: prometheus\n    url: http://127.0.0.1:1\n";
    auto c = loadConfig(dir_.write("agent.yml", config), registry_);
    if (!c) return c.error();
    return Agent::create(std::move(*c));
  }

  // An agent on the shipped pack with one file source, "cmdb", reading `facts`; `extra` is
  // more top-level config.
  Result<std::unique_ptr<Agent>> withFileSource(const std::string& facts,
                                                const std::string& extra = "") {
    auto c = loadConfig(dir_.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                    "/rules\n" + extra + "collectors:\n"
                                                    "  - {name: cmdb, type: file, path: " +
                                                    facts + "}\n"),
                        registry_);
    if (!c) return c.error();
    return Agent::create(std::move(*c));
  }

  // withFileSource on facts.yaml (one fact of system "ok"), storing in `db`, polled once.
  Result<std::unique_ptr<Agent>> polledWithStore(const std::string& db) {
    auto a = withFileSource(
        dir_.write("facts.yaml", "facts:\n  - {system: ok, key: file.cmdb.tier, value: '1'}\n"),
        "storage_path: " + db + "\n");
    if (a && !(*a)->poll(0).ok) return makeError(ErrorCode::kInternal, "the first poll failed");
    return a;
  }

  // Rewrites the attestations file with a new modification time.
  void rewrite(const std::string& content) {
    dir_.write("attestations.yaml", content);
    fs::last_write_time(att_path_, fs::last_write_time(att_path_) + std::chrono::seconds(++bumps_));
  }

  static scorer::CriterionState state(const Agent& a, const std::string& system,
                                      const std::string& id) {
    for (const auto& s : a.scores()) {
      if (s.system != system) continue;
      for (const auto& i : s.items) {
        for (const auto& c : i.criteria) {
          if (c.criterion->id == id) return c.state;
        }
      }
    }
    ADD_FAILURE() << "no " << id << " for " << system;
    return scorer::CriterionState::kUnknown;
  }

  collectors::Registry registry_;
  testing::TempDir dir_;
  std::string att_path_;
  int bumps_ = 0;
};

std::string attestation(bool met) {
  return std::string(R"(attestations:
  - system: web
    criterion: 6.1.6/L2/1
    attested_by: Li Wei
    document: https://wiki.example.com/alerting
    date: )") + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: " +
         (met ? "true" : "false") + "\n";
}

using CS = scorer::CriterionState;

TEST_F(AgentTest, DeclaredSystemsAreScoredWithTheirAttributesAndAttestations) {
  auto a = make(attestation(true));
  ASSERT_TRUE(a.ok()) << a.error().message;
  Agent& agent = **a;
  agent.rescore();
  ASSERT_EQ(agent.scores().size(), 3u);
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kPass);
  EXPECT_EQ(state(agent, "api", "6.1.6/L2/1"), CS::kUnknown);
  // （仅前端系统考察）: not applicable to a declared back-end, unknown when undeclared.
  EXPECT_EQ(state(agent, "api", "6.9.2/L2/3"), CS::kNotApplicable);
  EXPECT_EQ(state(agent, "web", "6.9.2/L2/3"), CS::kUnknown);
  EXPECT_EQ(state(agent, "batch", "6.9.2/L2/3"), CS::kUnknown);
}

// The profile decides what applies: an item whose subject the system lacks is N/A (with the
// reason, in the explanation and on /metrics), left out of its domain's level, and a profile
// change is never a regression.
TEST_F(AgentTest, AnItemWhoseSubjectTheSystemLacksIsNotApplicable) {
  const std::string facts = dir_.write("facts.yaml", "facts: []\n");
  auto write_config = [&](const std::string& cache) {
    return dir_.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) + "/rules\n" +
                                       "systems:\n  - {name: batch, has_cache: " + cache +
                                       ", has_database: false, steady_state: true, runtime: vm}\n"
                                       "  - {name: shop, has_cache: true}\n"
                                       "collectors:\n  - {name: cmdb, type: file, path: " + facts +
                                       "}\n");
  };
  auto c = loadConfig(write_config("false"), registry_);
  ASSERT_TRUE(c) << c.error().message;
  auto a = Agent::create(std::move(*c));
  ASSERT_TRUE(a) << a.error().message;
  Agent& agent = **a;
  agent.rescore();
  auto batch = agent.explainedScore("batch");
  ASSERT_TRUE(batch);
  const scorer::ItemScore* cache = nullptr;
  const scorer::DomainScore* ha = nullptr;
  for (const auto& i : batch->items) {
    if (i.item == "6.6.2") cache = &i;
  }
  for (const auto& d : batch->domains) {
    if (d.domain == "6.6") ha = &d;
  }
  ASSERT_TRUE(cache && ha);
  EXPECT_FALSE(cache->applicable);
  EXPECT_NE(cache->applicability.find("system.has_cache = false"), std::string::npos)
      << cache->applicability;
  for (const auto& r : cache->criteria) EXPECT_EQ(r.state, CS::kNotApplicable) << r.criterion->id;
  // 6.6: 6.6.1 scored, 6.6.2 and 6.6.3 not applicable
  EXPECT_TRUE(ha->applicable);
  EXPECT_EQ(ha->items, 1);
  EXPECT_EQ(ha->not_applicable, 2);
  // shop declares a cache: 6.6.2 applies, its criteria unknown (no evidence), not passed
  EXPECT_EQ(state(agent, "shop", "6.6.2/L1/1"), CS::kUnknown);
  EXPECT_EQ(state(agent, "batch", "6.6.3/L1/2"), CS::kNotApplicable);

  std::string metrics = renderMetrics(agent);
  EXPECT_NE(metrics.find("opsmaturity_item_not_applicable{because=\"system.has_cache = false\","
                         "domain=\"6.6\",item=\"6.6.2\",system=\"batch\"} 1"),
            std::string::npos);
  EXPECT_EQ(metrics.find("opsmaturity_item_level{domain=\"6.6\",item=\"6.6.2\",system=\"batch\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("opsmaturity_item_level{domain=\"6.6\",item=\"6.6.2\",system=\"shop\"}"),
            std::string::npos);
  EXPECT_EQ(metrics.find("opsmaturity_item_not_applicable{because=\"system.has_cache = false\","
                         "domain=\"6.6\",item=\"6.6.2\",system=\"shop\"}"),
            std::string::npos);
  EXPECT_TRUE(agent.regressions().empty());
}

// A source's default (system "*") fills what no source reports of a system the source knows,
// never makes a system of its own, never reaches a system the source does not know, and loses
// to any source's specific evidence.
TEST_F(AgentTest, DefaultEvidenceFillsGapsAndMakesNoSystem) {
  std::string facts = dir_.write("facts.yaml",
                                 "facts:\n  - {system: payments, key: file.cmdb.owner_named, value: true}\n"
                                 "  - {system: '*', key: file.cmdb.owner_named, value: false}\n"
                                 "  - {system: '*', key: file.cmdb.tier, value: '3'}\n");
  std::string other = dir_.write("other.yaml",
                                 "facts:\n  - {system: ledger, key: file.cmdb.tier, value: '1'}\n");
  auto c = loadConfig(dir_.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                  "/rules\nsystems: [crm]\ncollectors:\n"
                                                  "  - {name: cmdb, type: file, path: " + facts +
                                                  "}\n  - {name: other, type: file, path: " + other + "}\n"),
                      registry_);
  ASSERT_TRUE(c) << c.error().message;
  auto a = Agent::create(std::move(*c));
  ASSERT_TRUE(a) << a.error().message;
  Agent& agent = **a;
  for (const auto& out : agent.pollAll()) ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(agent.knownSystems(), (std::vector<std::string>{"crm", "ledger", "payments"}));
  auto value = [&](const std::string& system, const std::string& key) {
    auto e = agent.evidence().find(system, key);
    return e ? e->value.toString() + " from " + e->source.collector : std::string("none");
  };
  EXPECT_EQ(value("payments", "file.cmdb.owner_named"), "true from cmdb");
  EXPECT_EQ(value("payments", "file.cmdb.tier"), "\"3\" from cmdb");  // the default fills
  EXPECT_EQ(agent.evidence().snapshot("payments").at("file.cmdb.tier").system, "payments");
  EXPECT_EQ(value("ledger", "file.cmdb.tier"), "\"1\" from other");  // specific beats default
  EXPECT_EQ(value("ledger", "file.cmdb.owner_named"), "none");  // cmdb does not know ledger
  EXPECT_EQ(value("crm", "file.cmdb.owner_named"), "none");     // nobody knows crm
  EXPECT_EQ(value("crm", "file.cmdb.tier"), "none");
  EXPECT_FALSE(agent.knownToACollector("crm"));
  EXPECT_TRUE(agent.knownToACollector("ledger"));
  // Explanations name the source that does not know the system.
  auto why = agent.unknownTo("ledger");
  ASSERT_TRUE(why.count("file.*"));
  EXPECT_EQ(why.at("file.*"), "source cmdb (file) does not know system ledger");
}

// A name a source sends that breaks the rule for system names is dropped with its facts: it
// would otherwise reach /metrics (Prometheus rejects the whole scrape) and the JSON API.
TEST_F(AgentTest, FactsOfSystemNamesThatBreakTheRuleAreDropped) {
  std::string facts = dir_.write(
      "facts.json",
      "{\"facts\": [{\"system\": \"ok\", \"key\": \"file.cmdb.tier\", \"value\": \"1\"},"
      " {\"system\": \"bad\\u0001name\", \"key\": \"file.cmdb.tier\", \"value\": \"2\"},"
      " {\"system\": \"" + std::string(200, 'x') + "\", \"key\": \"file.cmdb.tier\", \"value\": \"3\"}]}");
  auto a = withFileSource(facts);
  ASSERT_TRUE(a) << a.error().message;
  auto out = (*a)->poll(0);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.systems, 1u);
  EXPECT_EQ((*a)->knownSystems(), (std::vector<std::string>{"ok"}));
}

// A full disk, for real: the file size limit (RLIMIT_FSIZE) makes every write that would grow
// the store's files fail (EFBIG, which SQLite reports as a disk I/O error). The
// poll's evidence is kept in memory, the failure is counted and the agent is not ready; when
// there is room again, both recover and nothing stored was lost.
TEST_F(AgentTest, AFullDiskIsCountedAndNotReadyAndLosesNothing) {
  const std::string db = (dir_.path() / "state.db").string();
  auto a = polledWithStore(db);
  ASSERT_TRUE(a) << a.error().message;
  Agent& agent = **a;
  ASSERT_TRUE(agent.storeWritable());

  std::string more = "facts:\n";
  for (int i = 0; i < 2000; ++i) {
    more += "  - {system: s" + std::to_string(i) + ", key: file.cmdb.tier, value: '" +
            std::string(100, 'x') + "'}\n";
  }
  dir_.write("facts.yaml", more);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of being killed
  std::error_code ec;
  const auto wal = std::filesystem::file_size(db + "-wal", ec);
  rlimit full = saved;
  full.rlim_cur = std::max<rlim_t>(std::filesystem::file_size(db), ec ? 0 : wal) + 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &full), 0);
  const bool polled = agent.poll(0).ok;
  const bool writable = agent.storeWritable();
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(polled) << "the poll itself succeeds; its evidence is kept in memory";
  EXPECT_FALSE(writable);
  agent.rescore();  // the next snapshot counts it (the daemon scores after every poll)
  EXPECT_NE(renderMetrics(agent).find("opsmaturity_store_errors_total 1"), std::string::npos);
  EXPECT_TRUE(agent.evidence().find("s1999", "file.cmdb.tier").has_value());
  ASSERT_TRUE(agent.poll(0).ok);
  EXPECT_TRUE(agent.storeWritable());
  a->reset();  // closes the store; a restart restores everything the last poll stored
  auto b = withFileSource(dir_.write("none.yaml", "facts: []\n"), "storage_path: " + db + "\n");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_TRUE((*b)->evidence().find("s1999", "file.cmdb.tier").has_value());
}

// The config's declared attributes are the agent's own evidence, not a collector's: they are
// never stale and do not dilute the stale ratio of what collectors said (nor wait for polls of
// a "config" source before a regression counts).
TEST_F(AgentTest, DeclaredAttributesAreNotCollectorEvidence) {
  auto a = withFileSource(
      dir_.write("facts.yaml", "facts:\n  - {system: ok, key: file.cmdb.tier, value: '1'}\n"),
      "systems:\n  - {name: ok, frontend: true, has_cache: false, has_database: true}\n");
  ASSERT_TRUE(a) << a.error().message;
  Agent& agent = **a;
  auto declared = agent.evidence().find("ok", "system.frontend");
  ASSERT_TRUE(declared.has_value());
  EXPECT_EQ(declared->source.kind, scorer::SourceKind::kConfig);
  EXPECT_FALSE(declared->source.polled());
  ASSERT_TRUE(agent.poll(0).ok);
  fs::remove(dir_.path() / "facts.yaml");
  ASSERT_FALSE(agent.poll(0).ok);
  agent.rescore();
  // The one collector fact is held after a failed poll: all of it is stale.
  EXPECT_NE(renderMetrics(agent).find("opsmaturity_evidence_stale_ratio{system=\"ok\"} 1\n"),
            std::string::npos)
      << renderMetrics(agent);
}

// Evidence of a collector taken out of the config is not restored at the next start (nobody
// renews it, yet it would count until it expired): it is deleted, in the log and the audit log.
TEST_F(AgentTest, EvidenceOfARemovedCollectorIsDeletedAtStartAndAudited) {
  const std::string db = (dir_.path() / "state.db").string();
  {
    auto a = polledWithStore(db);
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE((*a)->evidence().find("ok", "file.cmdb.tier").has_value());
  }
  // The same store, the collector renamed: the evidence of "cmdb" is gone.
  auto c = loadConfig(dir_.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                  "/rules\nstorage_path: " + db +
                                                  "\ncollectors:\n  - {name: inventory, "
                                                  "type: file, path: none.yaml}\n"),
                      registry_);
  dir_.write("none.yaml", "facts: []\n");
  ASSERT_TRUE(c) << c.error().message;
  auto a = Agent::create(std::move(*c));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_FALSE((*a)->evidence().find("ok", "file.cmdb.tier").has_value());
  auto stored = (*a)->durableStore()->loadEvidence();
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->empty());
  auto audit = (*a)->durableStore()->loadAudit("", 0, 10);
  ASSERT_TRUE(audit);
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].action, "evidence.forget");
  EXPECT_EQ((*audit)[0].actor, "agent");
  EXPECT_NE((*audit)[0].subject.find("1 pieces of evidence of collector 'cmdb'"), std::string::npos)
      << (*audit)[0].subject;
}

// A store that cannot be written is visible: counted, and the agent is not ready; when it can
// write again, both recover. (Another connection holding the database's write lock stands in
// for a full disk: the tests run as root, whom read-only files do not stop.)
TEST_F(AgentTest, AStoreThatCannotWriteIsCountedAndNotReady) {
  const std::string db = (dir_.path() / "state.db").string();
  auto a = polledWithStore(db);
  ASSERT_TRUE(a) << a.error().message;
  Agent& agent = **a;
  EXPECT_TRUE(agent.storeWritable());

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_TRUE(agent.poll(0).ok) << "the poll itself succeeds; its evidence is kept in memory";
  EXPECT_FALSE(agent.storeWritable());
  EXPECT_TRUE(agent.evidence().find("ok", "file.cmdb.tier").has_value());
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  agent.rescore();  // the next snapshot counts it (the daemon scores after every poll)
  EXPECT_NE(renderMetrics(agent).find("opsmaturity_store_errors_total 1"), std::string::npos);
  ASSERT_TRUE(agent.poll(0).ok);
  EXPECT_TRUE(agent.storeWritable());
}

// Regression baselines a failed write did not keep are written by the next scoring, even when
// nothing changed since: a restart then compares against them.
TEST_F(AgentTest, BaselinesAFailedWriteDidNotKeepAreWrittenNext) {
  const std::string db = (dir_.path() / "state.db").string();
  auto a = polledWithStore(db);
  ASSERT_TRUE(a) << a.error().message;
  Agent& agent = **a;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  agent.rescore();  // the first scoring sets every baseline; the write fails
  EXPECT_FALSE(agent.storeWritable());
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(agent.durableStore()->loadItemStates()->empty());
  agent.rescore();  // nothing changed, and the baselines are written now
  EXPECT_TRUE(agent.storeWritable());
  auto items = agent.durableStore()->loadItemStates();
  ASSERT_TRUE(items) << items.error().message;
  EXPECT_EQ(items->size(), agent.scores().at(0).items.size());
}

// The stored evidence of a system, as `evidence export` prints it: its own, and the newest
// source default for keys it has none of, marked as a default.
TEST(StoreExport, ASystemsEvidenceIncludesTheDefaultsItIsScoredOn) {
  testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store) << store.error().message;
  const TimePoint t = Clock::now();
  const auto ttl = std::chrono::hours(1);
  ASSERT_TRUE((*store)->replaceEvidence(
      "prom-a", scorer::toEvidence("prom-a", {scorer::Fact{"targets", "payments", 3.0, "a"},
                                              scorer::Fact{"targets", "*", 0.0, "a"},
                                              scorer::Fact{"rules", "*", 1.0, "a"}},
                                   t, ttl)));
  ASSERT_TRUE((*store)->replaceEvidence(
      "prom-b", scorer::toEvidence("prom-b", {scorer::Fact{"rules", "*", 2.0, "b"},
                                              scorer::Fact{"up", "payments", true, "b"}},
                                   t + std::chrono::seconds(1), ttl)));
  // prom-c's default is newer but prom-c does not know payments: not its evidence.
  ASSERT_TRUE((*store)->replaceEvidence(
      "prom-c", scorer::toEvidence("prom-c", {scorer::Fact{"rules", "*", 7.0, "c"},
                                              scorer::Fact{"up", "ledger", true, "c"}},
                                   t + std::chrono::seconds(2), ttl)));
  auto json = (*store)->exportSystem("payments");
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_NE(json->find(R"({"key":"targets","value":3.0,"collector":"prom-a")"), std::string::npos)
      << *json;
  EXPECT_NE(json->find(R"({"key":"rules","value":2.0,"collector":"prom-b")"),
            std::string::npos)
      << *json;
  EXPECT_NE(json->find(R"("expired":false,"default":true},{"key":"targets")"), std::string::npos)
      << "rules is a default, targets is not: " << *json;
  EXPECT_EQ(json->find(R"("default":true}],)"), std::string::npos) << *json;
  EXPECT_EQ(json->find(R"("value":1.0,)"), std::string::npos) << "an older default: " << *json;
  EXPECT_EQ(json->find(R"("value":7.0,)"), std::string::npos) << "prom-c's: " << *json;
}

// The export shows what the agent scores, by the agent's own rules (scorer::EvidenceStore):
// of two sources reporting the same key of the system, the newer only; a source that knows the
// systems of another (systems_from) lends its defaults.
TEST(StoreExport, TheExportIsDecidedByTheSameCodeAsTheScore) {
  testing::TempDir dir;
  auto store = Store::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store) << store.error().message;
  const TimePoint t = Clock::now();
  const auto ttl = std::chrono::hours(1);
  ASSERT_TRUE((*store)->replaceEvidence(
      "old", scorer::toEvidence("old", {scorer::Fact{"up", "payments", false, "o"}}, t, ttl)));
  ASSERT_TRUE((*store)->replaceEvidence(
      "new", scorer::toEvidence("new", {scorer::Fact{"up", "payments", true, "n"}},
                                t + std::chrono::seconds(5), ttl)));
  ASSERT_TRUE((*store)->replaceEvidence(
      "blackbox", scorer::toEvidence("blackbox", {scorer::Fact{"probes", "*", 4.0, "b"}}, t, ttl)));
  auto json = (*store)->exportSystem("payments", {{"blackbox", {"new"}}});
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_NE(json->find(R"({"key":"up","value":true,"collector":"new")"), std::string::npos)
      << *json;
  EXPECT_EQ(json->find(R"("collector":"old")"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"({"key":"probes","value":4.0,"collector":"blackbox","locator":"b")"), std::string::npos)
      << *json;
  EXPECT_NE(json->find(R"("expired":false,"default":true},{"key":"up")"), std::string::npos) << *json;
  // Without systems_from, blackbox does not know payments: its default is not payments'.
  json = (*store)->exportSystem("payments");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->find(R"("key":"probes")"), std::string::npos) << *json;
}

TEST_F(AgentTest, AChangedAttestationsFileIsReReadAndABrokenOneKeepsTheOldOnes) {
  auto a = make(attestation(true));
  ASSERT_TRUE(a.ok()) << a.error().message;
  Agent& agent = **a;
  agent.rescore();
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kPass);
  rewrite(attestation(false));
  agent.rescore();
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kFail);
  rewrite("attestations:\n  - system: web\n    criterion: nope\n");
  EXPECT_FALSE(agent.refreshAttestations().ok());
  agent.rescore();
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kFail) << "the last good file stays in force";
}

TEST_F(AgentTest, ABrokenAttestationsFileFailsStartUp) {
  auto a = make("attestations:\n  - system: web\n    criterion: 6.1.6/L2/1\n");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("attestations.yaml:2: field 'attested_by'"), std::string::npos)
      << a.error().message;
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// A source inventing systems grew the agent without bound (5,000 invented systems took 6 GB
// in `once --json`). Past max_systems systems the config does not declare, a poll fails with
// the count and the last evidence is kept; declared systems do not count.
TEST(MaxSystems, APollNamingMoreUndeclaredSystemsThanTheCapFailsAndKeepsTheLastEvidence) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  auto facts = [&](int n) {
    std::string text = "{\"facts\": [";
    for (int i = 0; i < n; ++i) {
      text += std::string(i ? "," : "") + "{\"system\": \"s" + std::to_string(i) +
              "\", \"key\": \"file.cmdb.tier\", \"value\": \"1\"}";
    }
    dir.write("facts.json", text + "]}");
  };
  facts(5);
  auto c = loadConfig(dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                 "/rules\nsystems: [s0, s1, s2]\ncollectors:\n"
                                                 "  - {name: cmdb, type: file, max_systems: 3, "
                                                 "path: facts.json}\n"),
                      registry);
  ASSERT_TRUE(c) << c.error().message;
  auto a = Agent::create(std::move(*c));
  ASSERT_TRUE(a) << a.error().message;
  auto first = (*a)->poll(0);
  ASSERT_TRUE(first.ok) << first.error;  // s3, s4 undeclared: 2 <= 3
  facts(7);                              // s3..s6 undeclared: 4 > 3
  auto second = (*a)->poll(0);
  EXPECT_FALSE(second.ok);
  EXPECT_NE(second.error.find("reported 4 systems the config does not declare, more than its "
                              "max_systems (3)"),
            std::string::npos)
      << second.error;
  EXPECT_TRUE((*a)->evidence().find("s4", "file.cmdb.tier"));
  EXPECT_FALSE((*a)->evidence().find("s5", "file.cmdb.tier"));
  auto bad = loadConfig(dir.write("bad.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                 "/rules\ncollectors:\n  - {name: cmdb, type: "
                                                 "file, max_systems: 0, path: facts.json}\n"),
                        registry);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("field 'max_systems'"), std::string::npos);
}

}  // namespace
}  // namespace opsm::agent
