#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/core/auth.h"
#include "agent/store/store.h"
#include "common/result.h"
#include "scorer/attestations.h"
#include "scorer/evidence.h"

namespace opsm::agent {

// A criterion a system is excused from for a while: counted as passed in the level *with
// waivers*, never in the strict level. Asked for by an attester, in force once approved by
// someone else, until it expires or is revoked (docs/attestations.md#waivers).
struct Waiver {
  int64_t id = 0;
  std::string system;
  std::string criterion;
  std::string justification;
  std::string risk;  // low, medium, high
  std::string requested_by;
  std::string approved_by;
  std::string decided_by;  // who rejected or revoked it
  std::string decision_comment;
  std::string state = "pending";  // pending, approved, rejected, revoked
  TimePoint created_at{};
  TimePoint expires{};
  TimePoint decided_at{};
};

// pending or approved past its expiry: "expired"; else its stored state.
std::string effectiveState(const Waiver& w, TimePoint now);
// Approved and not expired.
bool inForce(const Waiver& w, TimePoint now);

// The records as JSON: what the store keeps (and the audit log's before/after) when `now` is
// null; with `now`, also the derived fields the API shows (effective_state, counts / in_force).
std::string toJson(const scorer::Attestation& a, const TimePoint* now = nullptr,
                   bool require_approval = false);
std::string toJson(const Waiver& w, const TimePoint* now = nullptr);
Result<scorer::Attestation> attestationFromJson(const std::string& text);
Result<Waiver> waiverFromJson(const std::string& text);
// An audit entry as a JSON object (before/after embedded as objects).
std::string toJson(const Store::AuditEntry& e);

// The attestations, waivers and audit log of the agent: their states and every change to them,
// kept in the store (when the agent has one) in the same transaction as the audit entry that
// records the change. Thread-safe.
class Ledger {
 public:
  enum class Decision { kApprove, kReject, kRevoke };

  // Loads what the store holds (null: everything is kept in memory only, the audit log's
  // last 10,000 entries).
  static Result<std::unique_ptr<Ledger>> open(Store* store);

  // Records new attestations by `who` (their attested_by), pending. All or none are kept.
  Result<std::vector<scorer::Attestation>> attest(std::vector<scorer::Attestation> records,
                                                  const Principal& who, TimePoint now);
  // Records attestations kept by an older store as they were (pending, their author and
  // dates), audited as attestation.import by "agent".
  Status import(std::vector<scorer::Attestation> records, TimePoint now);
  // Approves, rejects or revokes attestation `id`. Approving or rejecting needs the approver
  // role and someone other than its author; revoking, its author or an approver. Approving
  // one supersedes the approved ones before it of the same system and criterion.
  Result<scorer::Attestation> decideAttestation(int64_t id, Decision decision,
                                                const Principal& who,
                                                const std::string& comment, TimePoint now);
  // The document check's result (agent/documents.h); audited when the status changes.
  Status recordDocumentCheck(int64_t id, const std::string& sha256, const std::string& status,
                             const std::string& detail, TimePoint now);

  Result<Waiver> requestWaiver(Waiver waiver, const Principal& who, TimePoint now);
  // As decideAttestation: approve/reject by an approver other than the requester; revoke by
  // the requester or an approver.
  Result<Waiver> decideWaiver(int64_t id, Decision decision, const Principal& who,
                              const std::string& comment, TimePoint now);

  // The attestations of the attestations file (not stored: the file is their record); the
  // change is audited (actor "file") when the set differs from the last one.
  void setFileAttestations(std::vector<scorer::Attestation> records, const std::string& file,
                           TimePoint now);
  // An agent-wide action (reload) in the audit log.
  Status audit(const std::string& actor, const std::string& action, const std::string& subject,
               TimePoint now);

  std::vector<scorer::Attestation> attestations() const;  // the API's, then the file's
  // Every record as of now, immutable: the API's attestations then the file's, and the
  // waivers. Shared until the ledger changes (a snapshot holds it); `version` counts changes.
  struct Records {
    std::vector<scorer::Attestation> attestations;
    std::vector<Waiver> waivers;
    uint64_t version = 0;
  };
  std::shared_ptr<const Records> records() const;
  std::optional<scorer::Attestation> attestation(int64_t id) const;
  std::vector<Waiver> waivers() const;
  std::optional<Waiver> waiver(int64_t id) const;
  // What the API and the console show beside each criterion of `system`: its attestations
  // that are pending, approved or expired, and its waivers pending or in force, by criterion.
  struct OpenRecords {
    std::map<std::string, std::vector<scorer::Attestation>> attestations;
    std::map<std::string, std::vector<Waiver>> waivers;
  };
  OpenRecords openRecords(const std::string& system, TimePoint now) const;
  static OpenRecords openRecords(const Records& records, const std::string& system,
                                 TimePoint now);
  Result<std::vector<Store::AuditEntry>> auditLog(const std::string& system, int64_t before_seq,
                                                  size_t limit) const;

  // The evidence of the attestations that count at `now` (scorer::counts): per system and
  // criterion the one with the latest date, split by where it came from (the API's, the
  // file's).
  struct Evidence {
    std::vector<scorer::Evidence> api, file;
  };
  Evidence evidence(TimePoint now, bool require_approval) const;
  // The criteria waived at `now`, by system.
  std::map<std::string, std::set<std::string>> waived(TimePoint now) const;
  static std::map<std::string, std::set<std::string>> waived(const std::vector<Waiver>& waivers,
                                                            TimePoint now);

 private:
  explicit Ledger(Store* store) : store_(store) {}
  // Writes the changed records and their audit entries (store first, then memory).
  Status commit(const std::vector<scorer::Attestation>& attestations,
                const std::vector<Waiver>& waivers, std::vector<Store::AuditEntry> audit,
                TimePoint now);

  Store* store_;
  mutable std::mutex mu_;
  std::map<int64_t, scorer::Attestation> api_;
  std::vector<scorer::Attestation> file_;
  std::string file_digest_;  // of the file's records, to audit a change once
  std::map<int64_t, Waiver> waivers_;
  int64_t next_attestation_ = 1, next_waiver_ = 1;
  std::deque<Store::AuditEntry> memory_audit_;  // without a store
  int64_t next_seq_ = 1;
  uint64_t version_ = 1;                           // mu_ held; counts changes
  mutable std::shared_ptr<const Records> cache_;  // of version_, or null; mu_ held
};

}  // namespace opsm::agent
