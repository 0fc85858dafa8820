#pragma once

#include <array>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "scorer/engine.h"
#include "scorer/rules.h"

namespace opsm::scorer {

// How levels are computed and aggregated. See docs/scoring.md.
struct ScoringConfig {
  enum class Aggregate { kMin, kMean, kMax };
  // Share (0..1] of a level's criteria that must pass (not-applicable counts as passed)
  // for the level to be reached. 1.0: every criterion.
  double level_pass_ratio = 1.0;
  Aggregate domain_aggregate = Aggregate::kMin;  // items -> domain level
  Aggregate system_aggregate = Aggregate::kMin;  // domains -> system level
  // Build a reason for every criterion (the agent shows them); off for bulk scoring.
  bool explain = true;
};

const char* aggregateName(ScoringConfig::Aggregate a);
Result<ScoringConfig> parseScoringConfig(const std::string& file, const YAML::Node& node);

struct LevelTally {
  int passed = 0;  // pass + not applicable
  int failed = 0;
  int unknown = 0;
  int not_applicable = 0;
  int total() const { return passed + failed + unknown; }
};

struct ItemScore {
  std::string item;
  std::string domain;
  // False when the item's `applies_to` fails for the system (no cache, no database): the
  // item is N/A, not 0 and not 5; its criteria are all not applicable, its level is 0 and
  // means nothing, and it is left out of the domain's aggregate.
  bool applicable = true;
  // Why it is not applicable; or, when its applicability is unknown, why (scored as
  // applicable). Empty otherwise, and always on the fast path.
  std::string applicability;
  // For an item not applicable: the profile facts that decided it, short
  // ("system.has_cache = false"), also on the fast path (for metrics).
  std::string not_applicable_because;
  int level = 0;          // highest L with levels 1..L all reached
  double progress = 0.0;  // level + share of level+1 passed
  // The same counting waived criteria as passed (EvalContext::waived); equal to level and
  // progress when none of the item's criteria is waived. The strict level above is the one
  // regressions, reports and alerts rest on.
  int level_with_waivers = 0;
  double progress_with_waivers = 0.0;
  int waived = 0;  // criteria waived (not passed, waiver in force)
  std::array<LevelTally, kLevels> tally{};
  std::vector<CriterionResult> criteria;  // every criterion, in level order
  // Per dimension of the standard (people, process, tools; Dimension): the progress of the
  // item's criteria of that dimension alone, computed like `progress` (a level without such
  // criteria is reached with the one below), and how many criteria it has (0: no progress).
  std::array<double, kDimensions> dimension_progress{};
  std::array<int, kDimensions> dimension_criteria{};
};

struct DomainScore {
  std::string domain;
  double level = 0.0;     // aggregate of item levels (min by default)
  double progress = 0.0;  // mean of item progress
  double level_with_waivers = 0.0;  // the same of the items' levels with waivers
  double progress_with_waivers = 0.0;
  int items = 0;          // applicable items scored
  int not_applicable = 0; // items left out as not applicable
  // False when every scored item of the domain is not applicable: N/A, left out of the
  // system's aggregate (level and progress 0, meaning nothing).
  bool applicable = true;
};

struct SystemScore {
  std::string system;
  double level = 0.0;
  double progress = 0.0;
  double level_with_waivers = 0.0;  // the same of the domains' levels with waivers
  double progress_with_waivers = 0.0;
  int waived = 0;  // criteria waived, over all items
  // Per dimension: the mean dimension progress of its applicable items that have criteria of
  // that dimension.
  std::array<double, kDimensions> dimension_progress{};
  std::vector<DomainScore> domains;
  std::vector<ItemScore> items;
};

ItemScore scoreItem(const ItemRules& rules, const EvalContext& ctx, const ScoringConfig& config);

// Scores every item that has rules; domains with no scored item are left out, and domains
// whose items are all not applicable are N/A and left out of the system's aggregate.
SystemScore scoreSystem(const std::string& system, const RulePack& pack, const EvalContext& ctx,
                        const ScoringConfig& config);

}  // namespace opsm::scorer
