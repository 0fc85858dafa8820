#pragma once
// What the benchmarks share: the shipped rule pack and the evidence keys it uses.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "scorer/check.h"
#include "scorer/rules.h"

namespace opsm::bench {

// The shipped rule pack (rules/), loaded once; a broken pack ends the benchmark.
inline const scorer::RulePack& shippedPack() {
  static scorer::RulePack p = [] {
    auto r = scorer::loadRulePack(std::string(OPSM_SOURCE_DIR) + "/rules");
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      std::exit(2);
    }
    return std::move(*r);
  }();
  return p;
}

// Every evidence key the pack's criteria use, with its type from the collectors' catalog
// (a namespace key such as plugin.* counts as a number).
inline std::map<std::string, scorer::ValueType> packKeys(const scorer::RulePack& pack) {
  collectors::Registry registry;
  if (!collectors::registerAll(registry)) std::exit(2);
  auto catalog = registry.catalog();
  std::map<std::string, scorer::ValueType> out;
  for (const auto& item : pack.items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        std::vector<std::string> ks;
        if (c.when) scorer::conditionKeys(*c.when, &ks);
        if (c.applies_to) scorer::conditionKeys(*c.applies_to, &ks);
        for (const auto& k : ks) {
          const auto* spec = catalog->find(k);
          out[k] = spec && !spec->isNamespace() ? spec->type : scorer::ValueType::kNumber;
        }
      }
    }
  }
  return out;
}

}  // namespace opsm::bench
