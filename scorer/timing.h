#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/duration.h"
#include "scorer/evidence.h"
#include "scorer/rules.h"

namespace opsm::scorer {

// When a score can change with nothing but time passing: a piece of evidence expires, or its
// age crosses the limit of an age() condition of the rule pack. Incremental scoring rescores
// a system at the first such time after its last scoring (docs/architecture.md, Scoring).
class TimeLimits {
 public:
  TimeLimits() = default;
  explicit TimeLimits(const RulePack& pack);

  // The keys some age() condition reads: their observation time decides something.
  std::set<std::string> timedKeys() const;

  // The first time after `now` at which `e` can decide differently with no new evidence:
  // when it expires, or when its age reaches or passes an age() limit on its key.
  // TimePoint::max() when there is none.
  TimePoint next(const Evidence& e, TimePoint now) const;

 private:
  // By key: the times after observation at which an age() comparison can flip.
  std::unordered_map<std::string, std::vector<Duration>> flips_;
};

}  // namespace opsm::scorer
