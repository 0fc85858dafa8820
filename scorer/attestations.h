#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result.h"
#include "scorer/evidence.h"
#include "scorer/rules.h"

namespace opsm::scorer {

// The source name attestation evidence of the attestations file carries.
inline constexpr const char* kAttestationSource = "attestations";
// The source name of attestations received through the HTTP API (kept in the store).
inline constexpr const char* kApiAttestationSource = "attestations-api";

// A person's statement that a system meets (or does not meet) one requirement, and its life:
// pending -> approved / rejected; approved or pending -> revoked; an approved one is
// superseded when a later one of the same system and criterion is approved; pending or
// approved past `expires` is expired (a derived state: see effectiveState()). See
// docs/attestations.md.
struct Attestation {
  int64_t id = 0;      // the store's id (API); 0 for one of the attestations file
  std::string origin;  // "api", or "<file>:<line>" for the attestations file
  std::string system;
  std::string criterion;
  bool met = true;  // false attests that the requirement is not met
  std::string attested_by;
  std::string approved_by;  // who approved or rejected it; empty while pending
  std::string document;     // URL (http, https, file) or any reference
  std::string comment;
  TimePoint date{};     // when it was attested
  TimePoint expires{};  // the earlier of its `expires` and date + the criterion's max_age
  std::string state = "pending";  // pending, approved, rejected, revoked, superseded
  std::string decision_comment;   // the approver's, rejecter's or revoker's words
  std::string decided_by;         // who rejected, revoked or superseded it (approved_by approves)
  TimePoint created_at{};
  TimePoint decided_at{};
  // The document as the agent last fetched it (agent/documents.h): its SHA-256 when first
  // fetched, the status of the last check (unchecked, ok, changed, missing, unreachable,
  // not_fetched) and why.
  std::string document_sha256;
  std::string document_status = "unchecked";
  std::string document_detail;
  TimePoint document_checked_at{};
};

// The state an attestation is in at `now`: its stored state, or "expired" when it is pending
// or approved and past its expiry.
std::string effectiveState(const Attestation& a, TimePoint now);

// Whether an attestation counts toward the score at `now`: approved (or, without
// `require_approval`, still pending), not expired; with `require_approval`, approved by someone
// other than its author.
bool counts(const Attestation& a, TimePoint now, bool require_approval);

// Reads an attestations file (YAML or JSON):
//
//   attestations:
//     - system: payments
//       criterion: 6.1.6/L2/1
//       met: true                     # default true; false attests the requirement is not met
//       attested_by: Li Wei <li.wei@example.com>
//       approved_by: Wang Fang        # optional: who approved it (reviewed the change)
//       document: https://wiki.example.com/ops/alerting-rules
//       comment: reviewed in the Q3 ops review   # optional (also `note`)
//       date: 2026-10-01              # when it was attested; not in the future
//       expires: 2027-10-01           # optional
//
// An entry with approved_by is approved, else pending. Errors name the file, line and field.
Result<std::vector<Attestation>> loadAttestationFile(const std::string& path,
                                                     const RulePack& pack, TimePoint now);

// The same from a parsed document (e.g. the body of POST /api/v1/attestations); `origin`
// names it in errors. Every entry is checked: the criterion exists and is attested, the date
// is not in the future, the expiry is after the date.
Result<std::vector<Attestation>> parseAttestationRecords(const YAML::Node& root,
                                                         const std::string& origin,
                                                         const RulePack& pack, TimePoint now);

// The evidence an attestation that counts gives: attestation.<criterion> = met for its system,
// observed at its date, expiring at its expiry, from `source`, its locator naming who attested
// and approved it and the document.
Evidence attestationEvidence(const Attestation& a, const std::string& source);

// Reads an attestations file as evidence: every attestation in it counts (tests and tools that
// do not track approval). Errors name the file, line and field.
Result<std::vector<Evidence>> loadAttestations(const std::string& path, const RulePack& pack,
                                               TimePoint now);

}  // namespace opsm::scorer
