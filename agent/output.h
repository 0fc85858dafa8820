#pragma once

#include <string>

#include "agent/agent.h"

namespace opsm::agent {

// The score table `opsmaturity once` prints; with `explain`, every criterion and its reason.
std::string renderTable(const Agent& agent, bool explain);

// The version of the JSON shapes of `once --json` and the API (docs/api.md#schema): raised
// when a field is removed or changes meaning, not when one is added.
inline constexpr int kJsonSchemaVersion = 1;

// The same as JSON: systems, domains, items, criteria with state and reason, and evidence.
std::string renderJson(const Agent& agent, const std::vector<PollOutcome>& polls);

// JUnit XML for CI: a test suite per system, a test case per criterion (failure: fails;
// error: unknown; skipped: not applicable, or waived), the levels as suite properties.
std::string renderJunit(const Agent& agent);

// CSV (RFC 4180, UTF-8): one row per system and criterion.
std::string renderCsv(const Agent& agent);

}  // namespace opsm::agent
