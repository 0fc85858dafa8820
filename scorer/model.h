#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace opsm::scorer {

// The structure of the maturity standard: domains, items, levels. Loaded from rules/model.yaml.
struct ItemInfo {
  std::string id;      // "6.1.3"
  std::string domain;  // "6.1"
  std::string zh;
  std::string en;
};

struct DomainInfo {
  std::string id;  // "6.1"
  std::string zh;
  std::string en;
  std::vector<std::string> items;  // item ids in the standard's order
};

struct LevelInfo {
  int level = 0;
  std::string zh;
  std::string en;
};

struct Model {
  std::vector<DomainInfo> domains;
  std::vector<ItemInfo> items;
  std::vector<LevelInfo> levels;  // 1..5

  const ItemInfo* findItem(const std::string& id) const;
  const DomainInfo* findDomain(const std::string& id) const;
};

constexpr int kLevels = 5;

// Loads and validates the model: unique ids, items numbered under their domain, levels 1..5.
Result<Model> loadModel(const std::string& path);

}  // namespace opsm::scorer
