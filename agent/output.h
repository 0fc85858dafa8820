#pragma once

#include <string>

#include "agent/agent.h"

namespace opsm::agent {

// The score table `opsmaturity once` prints; with `explain`, every criterion and its reason.
std::string renderTable(const Agent& agent, bool explain);

// The same as JSON: systems, domains, items, criteria with state and reason, and evidence.
std::string renderJson(const Agent& agent, const std::vector<PollOutcome>& polls);

}  // namespace opsm::agent
