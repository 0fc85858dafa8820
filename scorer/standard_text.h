#pragma once

#include <array>
#include <string>
#include <vector>

#include "common/result.h"
#include "scorer/model.h"

namespace opsm::scorer {

// The numbered requirements of the standard, read from its text (../shared/standard/). The
// text was extracted from a PDF, so the parser joins lines a page or line break split, skips
// table headers ("级别 维度") and reads "同 4 级" as "same as the previous level".
struct StandardLevel {
  bool same_as_previous = false;
  std::vector<std::string> requirements;  // requirement n is requirements[n-1], exact wording
};

struct StandardItem {
  std::string id;    // "6.1.1"
  std::string name;  // "数据采集"
  std::array<StandardLevel, kLevels> levels;
};

Result<std::vector<StandardItem>> parseStandardText(const std::string& path);

}  // namespace opsm::scorer
