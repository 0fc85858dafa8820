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

// `opsmaturity rules coverage`: docs/coverage.md: per item and level, what is decided by
// collected evidence, by it or an attestation, or by attestation only; the sources and the
// rationale of each `when`; the hints attesters are shown; the floors.
std::string renderCoverageDoc(const scorer::EvidenceCatalog& catalog,
                              const scorer::RulePack& pack);

}  // namespace opsm::agent
