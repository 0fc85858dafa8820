#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "common/result.h"
#include "scorer/evidence.h"
#include "scorer/regressions.h"
#include "scorer/scoring.h"

struct sqlite3;

namespace opsm::agent {

// The agent's durable state in one SQLite file (WAL journal, synchronous=NORMAL, one
// transaction per write, so a crash of the agent or SIGTERM mid-write loses nothing committed;
// a power loss may lose the last writes, not consistency): the evidence of every collector with
// its provenance, each item's last level and criterion states (the regression baseline), the
// history of level changes, and regression events. Thread-safe: each call is serialized.
//
// The file is the agent's alone: open() takes an exclusive lock on it (flock), so a second
// agent configured with the same storage_path fails to start, naming the file, instead of
// both writing into it. It is refused, never silently reset, when it is empty (a truncated
// store), not a SQLite database, another program's database, or written by a newer schema.
// A new file is created whole (schema, application_id 'OPSM' and user_version written in a
// temporary file renamed into place). Older schemas are migrated, in order (kSchemaVersion).
class Store {
 public:
  static constexpr int kSchemaVersion = 2;
  enum class Access {
    kOwner,     // the agent: exclusive lock, creates the file, migrates its schema
    kReadOnly,  // readers beside a running agent (evidence export): no lock, no writes
  };
  static Result<std::unique_ptr<Store>> open(const std::string& path,
                                             Access access = Access::kOwner);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Replaces everything `collector` reported before, as EvidenceStore does.
  Status replaceEvidence(const std::string& collector, const std::vector<scorer::Evidence>& ev);
  Result<std::vector<scorer::Evidence>> loadEvidence() const;

  // An item's regression baseline (the tracker's, not the current level: while a drop waits
  // for hysteresis the baseline is the level before it).
  struct ItemState {
    std::string system, item;
    int level = 0;
    std::map<std::string, scorer::CriterionState> states;
  };
  using Baseline = scorer::RegressionTracker::Baseline;
  // In one transaction: the baselines that changed (RegressionTracker::changedBaselines,
  // removed ones deleted), and a history row for each item whose level or progress changed
  // since the last successful call. Nothing is kept when any of it fails.
  Status recordScores(const std::vector<scorer::SystemScore>& scores,
                      const std::vector<Baseline>& baselines, TimePoint now);
  // Every stored baseline; an unreadable one is an error (a baseline missing a criterion
  // would hide its regression), not skipped.
  Result<std::vector<ItemState>> loadItemStates() const;
  Status recordRegressions(const std::vector<scorer::RegressionEvent>& events);

  // The level history (a row per change of an item's level or progress), oldest first: of
  // `system`, or of every system when it is empty.
  struct HistoryRow {
    TimePoint at{};
    std::string system, item;
    int level = 0;
    double progress = 0;
  };
  Result<std::vector<HistoryRow>> loadHistory(const std::string& system) const;

  // One entry of the append-only audit log: who did what, when, to what.
  struct AuditEntry {
    int64_t seq = 0;  // assigned by the store, increasing
    TimePoint at{};
    std::string actor;   // a token's name, "file" (the attestations file), "SIGHUP", "agent"
    std::string action;  // attestation.create, waiver.approve, reload, ... (docs/api.md)
    std::string system;  // empty for agent-wide actions (reloads)
    std::string subject;  // "attestation #12 (payments 6.7.4/L1/2)"
    std::string before;   // the record before, as JSON; empty when it did not exist
    std::string after;    // the record after, as JSON; empty when none
  };
  enum class Table { kAttestations, kWaivers };
  // A record (attestation or waiver, as JSON) to insert or replace by id.
  struct RecordWrite {
    Table table = Table::kAttestations;
    int64_t id = 0;
    std::string system, criterion, state, record;
  };
  // Writes the records and appends the audit entries in one transaction: either all are kept
  // or none is.
  Status write(const std::vector<RecordWrite>& records, const std::vector<AuditEntry>& audit,
               TimePoint now);
  // Every record of a table (as JSON), by id.
  Result<std::vector<std::string>> loadRecords(Table table) const;
  // Audit entries newest first: those before `before_seq` (0: from the newest), of `system`
  // and the agent-wide ones when `system` is not empty, at most `limit`.
  Result<std::vector<AuditEntry>> loadAudit(const std::string& system, int64_t before_seq,
                                            size_t limit) const;

  // Deletes history and regression rows older than `before` (never audit entries).
  Status prune(TimePoint before);

  // Everything kept about one system, as JSON for auditors (opsmaturity evidence export).
  // `systems_from`: per collector, the collectors whose systems it knows too (the config's
  // systems_from): their defaults count for the system like the agent counts them. `now`
  // decides which evidence is marked expired. The evidence has the shape of the API's
  // (scorer/json.h); the object starts with `schema_version` (scorer::json::kSchemaVersion).
  Result<std::string> exportSystem(
      const std::string& system,
      const std::map<std::string, std::vector<std::string>>& systems_from = {},
      TimePoint now = Clock::now()) const;

  const std::string& path() const { return path_; }
  // Failed write transactions since open (each rolled back whole).
  uint64_t errors() const { return errors_.load(); }
  // Whether SQLite has reported the file damaged (SQLITE_CORRUPT, SQLITE_NOTADB) since open:
  // the agent then goes not-ready and says how to recover (docs/deploy.md#a-damaged-store).
  bool corrupt() const { return corrupt_.load(); }

  // `opsmaturity store check`: opens `path` read-only, without the lock or any write, and runs
  // PRAGMA integrity_check. The problems it found (empty: none), or an error when the file
  // cannot be read as a SQLite database at all.
  static Result<std::vector<std::string>> check(const std::string& path);

 private:
  Store(sqlite3* db, std::string path, int lock_fd)
      : db_(db), path_(std::move(path)), lock_fd_(lock_fd) {}
  Status exec(const std::string& sql) const;
  // `what` failed: the path, what and SQLite's message.
  Status sqlError(const char* what) const;
  // Runs `body` in one write transaction (BEGIN IMMEDIATE ... COMMIT). When the body or the
  // COMMIT fails, the transaction is rolled back (never left open for the next write to
  // join) and counted. Call with mu_ held.
  Status transaction(const std::function<Status()>& body);
  // Marks the store corrupt when SQLite's last error says so.
  void noteError() const;
  std::atomic<uint64_t> errors_{0};
  mutable std::atomic<bool> corrupt_{false};
  mutable std::mutex mu_;
  sqlite3* db_;
  std::string path_;
  int lock_fd_ = -1;  // holds the exclusive flock while the store is open
  std::function<void()> owned_;  // forgets the file in the process's list of owned stores
  std::map<std::pair<std::string, std::string>, std::pair<int, double>> recorded_;
};

}  // namespace opsm::agent
