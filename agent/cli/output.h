#pragma once

#include <ostream>
#include <string>

#include "agent/core/agent.h"
#include "scorer/json.h"

namespace opsm::agent {

// The score table `opsmaturity once` prints; with `explain`, every criterion and its reason.
std::string renderTable(Agent& agent, bool explain);

// The same as JSON: systems, domains, items, criteria with state and reason, and evidence.
std::string renderJson(Agent& agent, const std::vector<PollOutcome>& polls);
// The same, written to `out` a system at a time (`once --json`): memory does not grow with
// the estate's document.
void writeJson(std::ostream& out, Agent& agent, const std::vector<PollOutcome>& polls);

// JUnit XML for CI: a test suite per system, a test case per criterion (failure: fails;
// error: unknown; skipped: not applicable, or waived), the levels as suite properties.
std::string renderJunit(Agent& agent);

// CSV (RFC 4180, UTF-8): one row per system and criterion.
std::string renderCsv(Agent& agent);

}  // namespace opsm::agent
