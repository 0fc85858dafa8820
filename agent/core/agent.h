#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "agent/core/auth.h"
#include "agent/core/config.h"
#include "agent/core/intake.h"
#include "agent/core/ledger.h"
#include "agent/core/snapshot.h"
#include "agent/store/store.h"
#include "common/result.h"
#include "scorer/evidence.h"
#include "scorer/rules.h"
#include "scorer/regressions.h"
#include "scorer/scoring.h"
#include "scorer/timing.h"

namespace opsm::agent {

// One system's score with a reason for every criterion, as the scoring of `snapshot` scored
// it: the pack its criteria point into, the snapshot it explains (what a page shows beside it,
// its generation), and the evidence it rests on (the system's own and the defaults that count
// for it).
struct ExplainedScore : scorer::SystemScore {
  std::shared_ptr<const scorer::RulePack> pack;
  std::shared_ptr<const Snapshot> snapshot;
  uint64_t generation = 0;  // snapshot->generation
  std::map<std::string, scorer::Evidence> evidence;
  // The evidence of `key`, or null.
  const scorer::Evidence* evidenceOf(const std::string& key) const {
    auto it = evidence.find(key);
    return it == evidence.end() ? nullptr : &it->second;
  }
};

// The agent's core: config, rules, evidence, scores and the snapshot. Polling one collector and
// rescoring may run on different threads; the state they share is locked, and what scoring
// produced is published as an immutable Snapshot.
class Agent {
 public:
  static Result<std::unique_ptr<Agent>> create(AgentConfig config);

  // Polls collector `index` once. On success its evidence replaces what it reported before;
  // on failure the previous evidence stays (until it expires) and collector_up goes to 0.
  PollOutcome poll(size_t index);
  std::vector<PollOutcome> pollAll();

  // Scores the systems whose evidence, attestations, waivers or profile changed since their
  // last scoring, or whose evidence expired or crossed an age() limit meanwhile, and those
  // with a drop waiting for hysteresis (Scope::kChanged); every system after a start, on
  // new rules, when a collector goes up or down or a source's defaults change, or with
  // Scope::kAll. Then publishes the next snapshot. Either gives the same
  // scores as scoring every system now (docs/architecture.md, Scoring).
  enum class Scope { kChanged, kAll };
  void rescore(Scope scope = Scope::kChanged);

  // The last scoring's snapshot (never null: before the first scoring, an empty one).
  std::shared_ptr<const Snapshot> snapshot() const;
  // Copies of the snapshot's scores and regressions (tests, small tools).
  std::vector<scorer::SystemScore> scores() const {
    std::vector<scorer::SystemScore> out;
    for (const auto& s : snapshot()->scores) out.push_back(static_cast<const scorer::SystemScore&>(*s));
    return out;
  }
  std::vector<scorer::RegressionEvent> regressions() const { return *snapshot()->regressions; }
  // One system's score with a reason for every criterion, against the current snapshot: on
  // its pack, at its time, with its waivers, on the evidence it scored (checked unchanged in
  // the store, EvidenceStore::unchangedSince). When the system's evidence changed since, it is
  // scored first (Scope::kChanged) and explained against that snapshot. Off the I/O thread:
  // it may score. Nullopt for a system the snapshot does not hold.
  std::optional<ExplainedScore> explainedScore(const std::string& system);
  // Systems declared in the config or reported by any collector, sorted.
  std::vector<std::string> knownSystems() const;
  // Whether `system` is among knownSystems(), without listing them.
  bool isKnownSystem(const std::string& system) const;
  // Why evidence of a key is missing for `system`, by key: "source prometheus-main
  // (prometheus) does not know system billing" for each key a configured collector that does
  // not know the system could report. For explanations (EvalContext::unknown_to).
  std::map<std::string, std::string> unknownTo(const std::string& system) const;
  // The same for a system known by `knowers` (sorted).
  std::map<std::string, std::string> unknownTo(const std::string& system,
                                               const std::vector<std::string>& knowers) const;
  // Whether a configured collector knows `system` (reports specific evidence of it, or knows
  // the systems of one that does). A system only declared or attested is known to none.
  bool knownToACollector(const std::string& system) const;
  // Whether this agent's shard scores `system` (true for scorer::kAnySystem).
  bool mine(const std::string& system) const;
  // Ready once every collector has been polled once (see Daemon).
  bool ready() const { return ready_.load(); }
  // Whether the last write to the durable store succeeded (true without storage_path).
  bool storeWritable() const { return store_health_.writable(); }
  // An answer the HTTP server refused to render or hold (opsmaturity_http_refused_total):
  // "memory" (out of memory rendering), "reply_budget" (unsent replies over their budget).
  // The process's own counters, read live: they are about the agent, not the assessment.
  enum class Refusal { kMemory, kReplyBudget };
  void countHttpRefusal(Refusal reason) const { ++http_refused_[static_cast<int>(reason)]; }
  uint64_t httpRefusals(Refusal reason) const { return http_refused_[static_cast<int>(reason)].load(); }
  // SQLite has found the store damaged since start (SQLITE_CORRUPT): not ready, alerted.
  bool storeCorrupt() const { return db_ && db_->corrupt(); }
  void markReady() { ready_ = true; }

  const AgentConfig& config() const { return config_; }
  // The current rule pack (a reload replaces it; what a caller holds stays valid).
  std::shared_ptr<const scorer::RulePack> rules() const;
  const scorer::EvidenceStore& evidence() const { return store_; }
  Store* durableStore() { return db_.get(); }

  // Who holds `token` (tokens file, api_token), or nullopt.
  std::optional<Principal> authenticate(std::string_view token) const;
  // Whether any token is configured (else writes are disabled).
  bool acceptsTokens() const;

  // Ledger writes take typed requests, parsed and validated where they arrive
  // (agent/exposition/requests.h); here only what needs the agent's state is checked.
  // Adds attestations by `who` (each attested_by who's name), for systems this agent scores;
  // they start pending (docs/attestations.md), are stored durably with their audit entries,
  // and the agent rescores before it answers. An invalid request changes nothing.
  Result<std::vector<scorer::Attestation>> addAttestations(
      std::vector<scorer::Attestation> records, const Principal& who);
  // Approves, rejects or revokes an attestation (Ledger::decideAttestation), then rescores.
  Result<scorer::Attestation> decideAttestation(int64_t id, Ledger::Decision decision,
                                                const Principal& who,
                                                const std::string& comment);
  // Asks for a waiver of a system this agent scores; rescores before it answers.
  Result<Waiver> addWaiver(Waiver waiver, const Principal& who);
  Result<Waiver> decideWaiver(int64_t id, Ledger::Decision decision, const Principal& who,
                              const std::string& comment);
  const Ledger& ledger() const { return *ledger_; }

  // Fetches the documents of the API's attestations not checked within
  // document_check_interval (or never) and records what it found (agent/documents.h).
  // Returns how many were checked. Blocking: run it off the I/O thread.
  size_t checkDocuments();

  // Re-reads the rule pack, the attestations file and the tokens file and rescores; audited
  // with `actor` (a token's name, or "SIGHUP"). A broken rule pack, attestations file or
  // tokens file keeps the running ones and returns why. Level changes caused by new
  // rules are not regressions: the baseline is kept only for criteria whose rules did not
  // change (RegressionTracker::carryOver). Collectors, listen address
  // and storage are read at start only. Call from the thread that rescores.
  Status reload(const std::string& actor = "SIGHUP");
  scorer::EvidenceStore& evidence() { return store_; }

  // Re-reads the attestations file into the ledger if it changed since it was last read; the
  // next scoring publishes them as evidence. A broken file is reported and the attestations
  // read before stay in force.
  Status refreshAttestations();

  // The agent's clock: what every age, expiry and "now" it reports is measured against (the
  // API, the console and reports too). Overridable for tests, before the agent is shared.
  TimePoint now() const { return clock_(); }
  void setClock(std::function<TimePoint()> clock) { clock_ = std::move(clock); }

 private:
  Agent(AgentConfig config, scorer::RulePack pack);

  AgentConfig config_;
  mutable std::mutex pack_mu_;
  std::shared_ptr<const scorer::RulePack> pack_;  // guarded by pack_mu_
  scorer::EvidenceStore store_;
  std::function<TimePoint()> clock_ = [] { return Clock::now(); };

  std::filesystem::file_time_type attestations_mtime_{};
  scorer::RegressionTracker tracker_;
  std::unique_ptr<Store> db_;  // durable state; null without storage_path
  std::unique_ptr<Ledger> ledger_;
  mutable std::mutex tokens_mu_;
  std::shared_ptr<const Tokens> tokens_;
  // The tokens of the tokens file and api_token.
  Result<std::shared_ptr<const Tokens>> loadTokens() const;
  // The attestations and waivers as a snapshot shows them at `now`.
  std::shared_ptr<const LedgerView> ledgerView(TimePoint now) const;
  // Puts the evidence of the attestations that count now into the evidence store.
  void publishAttestations();
  TimePoint last_prune_{};
  // Serializes scorings (the daemon's and those of API writes and reloads).
  std::mutex rescore_mu_;
  std::shared_ptr<const std::vector<scorer::RegressionEvent>> regressions_;  // under rescore_mu_
  uint64_t generation_ = 0;                                                   // under rescore_mu_
  // What the last scoring left for the next one (under rescore_mu_): each system's score and
  // the time at which time alone can change it, those times in a queue (entries whose time
  // is no longer the system's are stale and skipped), and what every system was scored with.
  struct Scored {
    std::shared_ptr<const SystemView> score;
    TimePoint wake = TimePoint::max();
  };
  std::map<std::string, Scored> scored_;
  std::priority_queue<std::pair<TimePoint, std::string>,
                      std::vector<std::pair<TimePoint, std::string>>, std::greater<>>
      wakes_;
  std::shared_ptr<const scorer::RulePack> scored_pack_;
  scorer::TimeLimits limits_;  // of scored_pack_
  std::set<std::string> scored_down_;  // collectors whose last poll had failed
  std::map<std::string, std::set<std::string>> waived_;
  TimePoint scored_now_{};
  std::set<std::string> declared_;  // config_.systems
  // The systems an incremental scoring scores: changed evidence, wake times due, drops
  // pending, waivers changed.
  std::set<std::string> systemsToRescore(
      const scorer::EvidenceStore::Changes& changes,
      const std::map<std::string, std::set<std::string>>& waived, TimePoint now);
  StoreHealth store_health_;
  std::unique_ptr<Intake> intake_;  // the collectors, their polls and health
  mutable std::atomic<uint64_t> http_refused_[2] = {0, 0};
  uint64_t scorings_ = 0;  // under rescore_mu_
  // The ledger's records as of the last scoring, and what they were built from.
  std::shared_ptr<const Ledger::Records> ledger_records_;  // under rescore_mu_
  // Recorded levels read from the store at start, by system then item, until the system is
  // first scored (then its SystemView carries them on).
  std::map<std::string, std::map<std::string, std::vector<LevelAt>>> loaded_history_;
  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by snapshot_mu_
  std::atomic<bool> ready_{false};
  // Records the outcome of a write to the durable store: counted, logged, and shown by
  // /-/ready (a store that cannot write is not ready).
  void storeWrote(const Status& st, const char* what) { store_health_.wrote(st, what); }
};

}  // namespace opsm::agent
