#pragma once

#include <string>

#include "agent/core/agent.h"

namespace opsm::agent {

enum class ReportFormat { kHtml, kMarkdown };
enum class ReportLang { kZh, kEn };

// The assessment report of one system, for a person or an auditor: overall and per-domain
// levels; each item's level with the evidence behind it; the gaps to the next level; stale
// evidence; attestations due within 30 days. HTML is one self-contained, printable page.
// Fails if the agent scores no such system.
Result<std::string> renderReport(Agent& agent, const std::string& system,
                                 ReportFormat format, ReportLang lang, TimePoint now);

}  // namespace opsm::agent
