#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/ledger.h"
#include "common/duration.h"
#include "scorer/regressions.h"
#include "scorer/rules.h"
#include "scorer/scoring.h"

namespace opsm::agent {

// One collector as the intake last saw it: the one place a collector's health is kept. The
// daemon schedules by it (a poll that timed out goes to the slow pool), /metrics and the API
// show it from the snapshot.
struct CollectorHealth {
  std::string name, type;
  bool polled = false;     // a poll has ended since start
  bool up = false;         // the last poll succeeded
  bool timed_out = false;  // the last poll did not end within its timeout
  double duration_seconds = 0;  // of the last poll
  TimePoint last_success{};     // the agent's clock; {} none since start
  size_t facts = 0, systems = 0;  // of the last successful poll
  uint64_t successes = 0, failures = 0;  // since start
  std::string error;    // of the last failed poll (redacted), empty after a success
  std::string warning;  // of the last successful poll (it matched no system)
};

// A level an item was recorded at, from when (the store's score history, level changes only).
struct LevelAt {
  TimePoint at{};
  int level = 0;
};

// What a reader shows of one item of a system beside its score.
struct ItemRecord {
  uint64_t regressions = 0;   // since start (opsmaturity_item_regressions_total)
  TimePoint level_changed{};  // the last change of its level since start; {} none
  // Its recorded levels within the retention, oldest first (with storage_path; else empty).
  std::vector<LevelAt> history;
};

// One scored system as readers show it: its score (states and levels, no reasons) and what
// goes with it. Built when the system is scored, shared unchanged with the snapshots after
// until it is scored again, so that publishing costs O(systems scored), not O(estate).
struct SystemView : scorer::SystemScore {
  // Share (0-1) of its collector evidence that is stale: expired, or its collector down.
  double stale_ratio = 0;
  // When each of its attestations that counts expires, by criterion.
  std::vector<std::pair<std::string, TimePoint>> attestation_expiries;
  // Its collector evidence: expired, and expiring within a day, as of its scoring.
  int evidence_expired = 0, evidence_expiring = 0;
  std::vector<ItemRecord> records;  // one per items[k]
};

// The attestations and waivers as of a snapshot: the records themselves (shared with the
// snapshots after until the ledger changes) and what /metrics counts of them.
struct LedgerView {
  std::shared_ptr<const Ledger::Records> records = std::make_shared<const Ledger::Records>();
  // By effective state at the snapshot's time.
  std::map<std::string, int> attestation_states, waiver_states;
  // Pending or approved attestations of this shard's systems whose document changed or
  // vanished: {system, criterion, status}.
  std::vector<std::vector<std::string>> flagged_documents;
  // When each waiver in force of this shard's systems expires: {system, criterion}.
  std::map<std::pair<std::string, std::string>, TimePoint> waiver_expiries;
  // What the API and the console show beside each criterion of `system` (Ledger::openRecords).
  Ledger::OpenRecords openRecords(const std::string& system, TimePoint now) const;
};

// What one scoring produced, published whole (Agent::snapshot()): every reader — /metrics,
// the API, the console, reports, `once` — renders one snapshot and nothing else, without locks,
// however long it holds it, while the next scoring builds its own (ClickHouse's MultiVersion:
// a shared_ptr<const Snapshot> swapped under a lock). The scores' criteria point into `pack`,
// which the snapshot keeps alive across a reload.
struct Snapshot {
  std::shared_ptr<const scorer::RulePack> pack;
  // Every scored system, sorted by name.
  std::vector<std::shared_ptr<const SystemView>> scores;
  // Regressions seen since start, newest last (at most the last 1000).
  std::shared_ptr<const std::vector<scorer::RegressionEvent>> regressions;
  std::shared_ptr<const LedgerView> ledger;
  std::vector<CollectorHealth> collectors;  // in the config's order
  // The scoring that made this snapshot.
  struct Scoring {
    double seconds = 0;   // how long it took
    size_t rescored = 0;  // systems it scored again
    uint64_t count = 0;   // scorings since start, this one included
  } scoring;
  uint64_t store_errors = 0;  // writes to the durable store that failed since start
  bool history_kept = false;  // with storage_path: ItemRecord::history is kept
  // The evidence store's epoch this scoring took its changes at (EvidenceStore::Changes):
  // explanations check against it that a system's evidence is still what was scored.
  uint64_t evidence_epoch = 0;
  TimePoint scored_at{};      // the agent's clock
  uint64_t generation = 0;    // 0: not scored yet

  // The view of `system`, or null when it is not scored.
  const SystemView* find(std::string_view system) const;
};

}  // namespace opsm::agent
