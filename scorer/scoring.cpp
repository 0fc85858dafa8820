#include "scorer/scoring.h"

#include "scorer/check.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "common/yaml_util.h"

namespace opsm::scorer {

using Aggregate = ScoringConfig::Aggregate;

const char* aggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kMin:
      return "min";
    case Aggregate::kMean:
      return "mean";
    case Aggregate::kMax:
      return "max";
  }
  return "min";
}

namespace {

Result<Aggregate> parseAggregate(const std::string& file, const YAML::Node& map,
                                 std::string_view field) {
  auto s = readString(file, map, field, "min");
  if (!s) return s.error();
  for (auto a : {Aggregate::kMin, Aggregate::kMean, Aggregate::kMax}) {
    if (*s == aggregateName(a)) return a;
  }
  return fieldError(file, map[std::string(field)], field,
                    "'" + *s + "' is not one of min, mean, max");
}

double aggregate(Aggregate a, const std::vector<double>& xs) {
  if (xs.empty()) return 0.0;
  switch (a) {
    case Aggregate::kMin:
      return *std::min_element(xs.begin(), xs.end());
    case Aggregate::kMax:
      return *std::max_element(xs.begin(), xs.end());
    case Aggregate::kMean:
      break;
  }
  return std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
}

double mean(const std::vector<double>& xs) { return aggregate(Aggregate::kMean, xs); }

}  // namespace

Result<ScoringConfig> parseScoringConfig(const std::string& file, const YAML::Node& node) {
  ScoringConfig config;
  if (!node.IsDefined() || node.IsNull()) return config;
  if (auto st = checkKeys(file, node, {"level_pass_ratio", "domain_aggregate", "system_aggregate"},
                          "scoring");
      !st) {
    return st.error();
  }
  auto ratio = readNumber(file, node, "level_pass_ratio", 1.0);
  if (!ratio) return ratio.error();
  if (!(*ratio > 0.0 && *ratio <= 1.0)) {
    return fieldError(file, node["level_pass_ratio"], "level_pass_ratio",
                      "must be greater than 0 and at most 1");
  }
  config.level_pass_ratio = *ratio;
  auto d = parseAggregate(file, node, "domain_aggregate");
  if (!d) return d.error();
  config.domain_aggregate = *d;
  auto s = parseAggregate(file, node, "system_aggregate");
  if (!s) return s.error();
  config.system_aggregate = *s;
  return config;
}

namespace {

// The highest level L whose levels 1..L are reached (a level's share of criteria passed is at
// least `ratio`; a level without criteria, such as 同 4 级, is reached), and the progress
// L + the share of level L+1 passed. Level L+1 is the first not reached, so its share is below
// the ratio and the progress stays below L+1.
std::pair<int, double> levelAndProgress(const std::array<int, kLevels>& passed,
                                        const std::array<int, kLevels>& total, double ratio) {
  auto share = [&](int level) {
    return total[level - 1] == 0 ? 1.0 : static_cast<double>(passed[level - 1]) / total[level - 1];
  };
  // A small tolerance so that a ratio such as 0.8 of 5 criteria (4/5) is reached exactly.
  constexpr double kEps = 1e-9;
  int level = 0;
  while (level < kLevels && share(level + 1) + kEps >= ratio) ++level;
  return {level, level >= kLevels ? static_cast<double>(kLevels) : level + share(level + 1)};
}

}  // namespace

ItemScore scoreItem(const ItemRules& rules, const EvalContext& ctx, const ScoringConfig& config) {
  ItemScore score;
  score.item = rules.item;
  score.domain = rules.domain;
  size_t total = 0;
  for (const auto& level : rules.levels) total += level.criteria.size();
  score.criteria.reserve(total);
  if (rules.applies_to) {
    std::string why;
    Tri t = evaluate(*rules.applies_to, ctx, config.explain ? &why : nullptr);
    if (t == Tri::kFail) {
      // The system lacks the item's subject: N/A with the reason, every criterion too.
      score.applicable = false;
      if (config.explain) score.applicability = "not applicable: " + why;
      std::vector<std::string> keys;
      conditionKeys(*rules.applies_to, &keys);
      for (const auto& k : keys) {
        auto e = ctx.evidence.find(k);
        if (e == ctx.evidence.end()) continue;
        if (!score.not_applicable_because.empty()) score.not_applicable_because += ", ";
        score.not_applicable_because += k + " = " + e->second.value.toString();
      }
      for (const auto& level : rules.levels) {
        for (const auto& c : level.criteria) {
          CriterionResult r;
          r.criterion = &c;
          r.state = CriterionState::kNotApplicable;
          if (config.explain) r.reason = "item " + rules.item + " is " + score.applicability;
          score.criteria.push_back(std::move(r));
          ++score.tally[c.level - 1].not_applicable;
        }
      }
      return score;
    }
    if (t == Tri::kUnknown && config.explain) {
      score.applicability = "applies unless the profile says otherwise (" + why + ")";
    }
  }
  for (const auto& level : rules.levels) {
    for (const auto& c : level.criteria) {
      score.criteria.push_back(evaluateCriterion(c, ctx, config.explain));
    }
  }
  // Floors: a level-1 statement of where a team starts also passes when the practice that
  // supersedes it passes (docs/scoring.md).
  for (auto& r : score.criteria) {
    const Criterion& c = *r.criterion;
    if (c.floor_of_index < 0 || r.state == CriterionState::kPass ||
        r.state == CriterionState::kNotApplicable) {
      continue;
    }
    const CriterionResult& above = score.criteria[static_cast<size_t>(c.floor_of_index)];
    if (above.state == CriterionState::kPass) {
      r.state = CriterionState::kPass;
      if (config.explain) {
        r.reason = "a starting point the system is past: " + c.floor_of + " passes (" +
                   above.reason + ")";
      }
    }
  }
  // Waived criteria keep their real state; they are counted as passed with waivers only.
  if (ctx.waived && !ctx.waived->empty()) {
    for (auto& r : score.criteria) {
      if (r.state == CriterionState::kPass || r.state == CriterionState::kNotApplicable) continue;
      if (ctx.waived->count(r.criterion->id)) {
        r.waived = true;
        ++score.waived;
      }
    }
  }
  // Per level: criteria passed (or not applicable) and all of them, for the item and for each
  // dimension's criteria alone (the standard's 组织人员, 流程规范, 工具平台).
  std::array<int, kLevels> passed{}, counted{}, passed_with_waivers{};
  std::array<std::array<int, kLevels>, kDimensions> dim_passed{}, dim_total{};
  for (const auto& r : score.criteria) {
    const int l = r.criterion->level - 1;
    LevelTally& t = score.tally[l];
    switch (r.state) {
      case CriterionState::kPass:
        ++t.passed;
        break;
      case CriterionState::kNotApplicable:
        ++t.passed;
        ++t.not_applicable;
        break;
      case CriterionState::kFail:
        ++t.failed;
        break;
      case CriterionState::kUnknown:
        ++t.unknown;
        break;
    }
    const bool ok = r.state == CriterionState::kPass || r.state == CriterionState::kNotApplicable;
    passed[l] += ok;
    passed_with_waivers[l] += ok || r.waived;
    ++counted[l];
    for (int d = 0; d < kDimensions; ++d) {
      if (!r.criterion->hasDimension(static_cast<Dimension>(d))) continue;
      dim_passed[d][l] += ok;
      ++dim_total[d][l];
      ++score.dimension_criteria[d];
    }
  }
  std::tie(score.level, score.progress) = levelAndProgress(passed, counted, config.level_pass_ratio);
  if (score.waived) {
    std::tie(score.level_with_waivers, score.progress_with_waivers) =
        levelAndProgress(passed_with_waivers, counted, config.level_pass_ratio);
  } else {
    score.level_with_waivers = score.level;
    score.progress_with_waivers = score.progress;
  }
  for (int d = 0; d < kDimensions; ++d) {
    if (score.dimension_criteria[d] == 0) continue;
    score.dimension_progress[d] =
        levelAndProgress(dim_passed[d], dim_total[d], config.level_pass_ratio).second;
  }
  return score;
}

SystemScore scoreSystem(const std::string& system, const RulePack& pack, const EvalContext& ctx,
                        const ScoringConfig& config) {
  SystemScore out;
  out.system = system;
  out.items.reserve(pack.items.size());
  for (const auto& rules : pack.items) out.items.push_back(scoreItem(rules, ctx, config));

  std::vector<double> domain_levels, domain_progress, domain_levels_w, domain_progress_w;
  for (const auto& item : out.items) out.waived += item.waived;
  for (const auto& d : pack.model.domains) {
    std::vector<double> levels, progress, levels_w, progress_w;
    int not_applicable = 0;
    for (const auto& item : out.items) {
      if (item.domain != d.id) continue;
      if (!item.applicable) {
        ++not_applicable;
        continue;
      }
      levels.push_back(item.level);
      progress.push_back(item.progress);
      levels_w.push_back(item.level_with_waivers);
      progress_w.push_back(item.progress_with_waivers);
    }
    if (levels.empty() && not_applicable == 0) continue;
    DomainScore ds;
    ds.domain = d.id;
    if (levels.empty()) {
      ds.applicable = false;
      ds.not_applicable = not_applicable;
      out.domains.push_back(ds);
      continue;
    }
    ds.level = aggregate(config.domain_aggregate, levels);
    ds.progress = mean(progress);
    ds.level_with_waivers = aggregate(config.domain_aggregate, levels_w);
    ds.progress_with_waivers = mean(progress_w);
    ds.items = static_cast<int>(levels.size());
    ds.not_applicable = not_applicable;
    domain_levels.push_back(ds.level);
    domain_progress.push_back(ds.progress);
    domain_levels_w.push_back(ds.level_with_waivers);
    domain_progress_w.push_back(ds.progress_with_waivers);
    out.domains.push_back(ds);
  }
  out.level = aggregate(config.system_aggregate, domain_levels);
  out.progress = mean(domain_progress);
  out.level_with_waivers = aggregate(config.system_aggregate, domain_levels_w);
  out.progress_with_waivers = mean(domain_progress_w);
  for (int d = 0; d < kDimensions; ++d) {
    std::vector<double> p;
    for (const auto& item : out.items) {
      if (item.applicable && item.dimension_criteria[d] > 0) p.push_back(item.dimension_progress[d]);
    }
    out.dimension_progress[d] = mean(p);
  }
  return out;
}

}  // namespace opsm::scorer
