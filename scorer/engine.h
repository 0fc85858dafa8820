#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "scorer/evidence.h"
#include "scorer/keys.h"
#include "scorer/rules.h"

namespace opsm::scorer {

// Three-valued logic: missing or expired evidence makes a condition unknown, never failed.
enum class Tri { kPass, kFail, kUnknown };
const char* triName(Tri t);

enum class CriterionState { kPass, kFail, kUnknown, kNotApplicable };
const char* criterionStateName(CriterionState s);

// One system's evidence at one instant.
struct EvalContext {
  const std::map<std::string, Evidence>& evidence;
  TimePoint now;
  // Optional: the same evidence indexed by key id (see keys.h). When set, lookups of keys
  // with an id use it instead of the map: the fast path for scoring many systems.
  const EvidenceIndex* index = nullptr;
  // Optional, for explanations: why a key has no evidence, by key ("source prometheus-main
  // does not know system billing"; EvidenceStore::unknownTo).
  const std::map<std::string, std::string>* unknown_to = nullptr;
  // Optional: the ids of the criteria waived for the system now (agent/ledger.h). A waived
  // criterion keeps its real state and counts as passed only in the levels *with waivers*.
  const std::set<std::string>* waived = nullptr;
};

// Evaluates a compiled condition. When `why` is not null it receives an explanation naming
// the evidence and the values that decided the outcome.
Tri evaluate(const Condition& condition, const EvalContext& ctx, std::string* why = nullptr);

struct CriterionResult {
  const Criterion* criterion = nullptr;
  CriterionState state = CriterionState::kUnknown;
  std::string reason;
  // Not passed (fail or unknown) and waived: passed in the level with waivers only.
  bool waived = false;
};

// "supporting evidence for the attester (not proof): k = v (source), ..." for the hints of
// an attestation criterion.
std::string hintText(const Criterion& criterion, const EvalContext& ctx);

// Every evidence key that decides a criterion: its attestation key, or the keys of its `when`,
// and those of its `applies_to` (not its hints, which decide nothing).
std::vector<std::string> keysOf(const Criterion& criterion);

// With `explain` false no reason is built: for scoring many systems when only states and
// levels are needed.
CriterionResult evaluateCriterion(const Criterion& criterion, const EvalContext& ctx,
                                  bool explain = true);

}  // namespace opsm::scorer
