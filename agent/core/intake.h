#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "agent/core/snapshot.h"
#include "agent/store/store.h"
#include "collectors/collector.h"
#include "scorer/evidence.h"

namespace opsm::agent {

struct PollOutcome {
  std::string collector;
  bool ok = false;
  std::string error;  // set when !ok; names the collector's URL (redacted), never a secret
  size_t facts = 0;
  double seconds = 0;
  bool timed_out = false;  // the source did not answer within the poll's timeout
  size_t systems = 0;      // systems the poll reported specific evidence of
  // Set when the poll succeeded but its system mapping matched no system: its evidence counts
  // for no system (see docs/architecture.md, Attribution).
  std::string warning;
};

// Whether the durable store's last write succeeded, and how many failed since start: shared by
// the stages that write (intake, scoring, ledger); read by /-/ready and each snapshot.
class StoreHealth {
 public:
  // Records the outcome of a write: counted and logged when it failed.
  void wrote(const Status& st, const char* what);
  bool writable() const { return ok_.load(); }
  uint64_t errors() const { return errors_.load(); }

 private:
  std::atomic<bool> ok_{true};
  std::atomic<uint64_t> errors_{0};
};

// The intake stage: collect → sanitize names and secrets → attribute and shard → evidence TTLs
// → durable write → evidence store. It owns the running collector instances (taken from the
// config, which keeps only their declarations) and their health, the one place that is kept.
// A collector instance is polled by one thread at a time (the daemon's schedule); different
// collectors may be polled at once.
class Intake {
 public:
  Intake(AgentConfig& config, scorer::EvidenceStore& store, Store* db, StoreHealth& store_health,
         std::function<TimePoint()> clock);

  // Polls collector `index` once. On success its evidence replaces what it reported before;
  // on failure the previous evidence stays (until it expires) and its health says down.
  PollOutcome poll(size_t index);
  // Every collector's health now, in the config's order (a snapshot carries a copy).
  std::vector<CollectorHealth> health() const;
  size_t size() const { return collectors_.size(); }

 private:
  const AgentConfig& config_;
  scorer::EvidenceStore& store_;
  Store* db_;
  StoreHealth& store_health_;
  std::function<TimePoint()> clock_;
  std::set<std::string> declared_;  // config_.systems
  std::vector<std::unique_ptr<collectors::Collector>> collectors_;  // by config index
  mutable std::mutex health_mu_;
  std::vector<CollectorHealth> health_;  // under health_mu_
};

// Whether `shard` scores `system` (true for scorer::kAnySystem, whose evidence is every shard's).
bool inShard(const AgentConfig::Shard& shard, const std::string& system);

}  // namespace opsm::agent
