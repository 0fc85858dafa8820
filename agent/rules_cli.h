#pragma once

#include <string>

#include "collectors/collector.h"
#include "scorer/rules.h"

namespace opsm::agent {

// `opsmaturity rules list`: every criterion (id, level, evidenced by, zh, en) and the
// automation coverage: the share of criteria evidenced by a `when:` condition, per level and
// per domain.
std::string renderRuleList(const scorer::RulePack& pack);
std::string renderCoverage(const scorer::RulePack& pack);

// `opsmaturity rules catalog`: docs/evidence-catalog.md, generated from the collectors'
// declared keys and the rules that use them.
std::string renderEvidenceCatalog(const scorer::EvidenceCatalog& catalog,
                                  const scorer::RulePack& pack);

}  // namespace opsm::agent
