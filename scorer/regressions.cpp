#include "scorer/regressions.h"

#include <algorithm>

namespace opsm::scorer {

namespace {

std::map<std::string, CriterionState> statesOf(const ItemScore& item) {
  std::map<std::string, CriterionState> out;
  for (const auto& c : item.criteria) out[c.criterion->id] = c.state;
  return out;
}

}  // namespace

RegressionTracker::Update RegressionTracker::observe(const std::vector<SystemScore>& scores,
                                                     TimePoint now) {
  Update update;
  for (const auto& system : scores) {
    for (const auto& item : system.items) {
      auto key = std::make_pair(system.system, item.item);
      auto it = items_.find(key);
      if (it == items_.end()) {
        items_[key] = State{item.level, statesOf(item), 0};
        continue;
      }
      State& s = it->second;
      if (item.level >= s.level) {
        if (item.level > s.level) {
          update.changes.push_back({system.system, item.item, s.level, item.level, now, false});
        }
        s = State{item.level, statesOf(item), 0};
        continue;
      }
      if (++s.pending < hysteresis_) continue;
      RegressionEvent ev{system.system, item.item, s.level, item.level, now, {}};
      for (const auto& c : item.criteria) {
        if (c.criterion->level > s.level || c.state != CriterionState::kFail) continue;
        auto before = s.states.find(c.criterion->id);
        if (before != s.states.end() && before->second == CriterionState::kPass) {
          ev.flipped.emplace_back(c.criterion->id, c.reason);
        }
      }
      bool regression = !ev.flipped.empty();
      update.changes.push_back({system.system, item.item, s.level, item.level, now, regression});
      if (regression) update.regressions.push_back(std::move(ev));
      s = State{item.level, statesOf(item), 0};
    }
  }
  return update;
}

int RegressionTracker::level(const std::string& system, const std::string& item) const {
  auto it = items_.find({system, item});
  return it == items_.end() ? -1 : it->second.level;
}

void RegressionTracker::restore(const std::string& system, const std::string& item, int level,
                                std::map<std::string, CriterionState> states) {
  items_[{system, item}] = State{level, std::move(states), 0};
}

}  // namespace opsm::scorer
