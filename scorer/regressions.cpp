#include "scorer/regressions.h"

#include <algorithm>

namespace opsm::scorer {

namespace {

// Sets the baseline to this scoring, reusing the vector's storage.
void setBaseline(const ItemScore& item, std::vector<CriterionState>* states) {
  states->resize(item.criteria.size());
  for (size_t k = 0; k < item.criteria.size(); ++k) (*states)[k] = item.criteria[k].state;
}

}  // namespace

RegressionTracker::State* RegressionTracker::find(std::vector<std::pair<std::string, State>>& items,
                                                  const std::string& item, size_t hint) {
  if (hint < items.size() && items[hint].first == item) return &items[hint].second;
  for (auto& [name, state] : items) {
    if (name == item) return &state;
  }
  return nullptr;
}

RegressionTracker::Update RegressionTracker::observe(const std::vector<SystemScore>& scores,
                                                     TimePoint now) {
  Update update;
  for (const auto& system : scores) {
    auto& items = items_[system.system];
    for (size_t k = 0; k < system.items.size(); ++k) {
      const auto& item = system.items[k];
      State* found = find(items, item.item, k);
      if (!found) {
        State fresh;
        fresh.level = item.level;
        setBaseline(item, &fresh.states);
        items.emplace_back(item.item, std::move(fresh));
        continue;
      }
      State& s = *found;
      auto rebase = [&] {
        s.level = item.level;
        s.pending = 0;
        s.restored.clear();
        setBaseline(item, &s.states);
      };
      if (item.level >= s.level) {
        if (item.level > s.level) {
          update.changes.push_back({system.system, item.item, s.level, item.level, now, false});
        }
        rebase();
        continue;
      }
      if (++s.pending < hysteresis_) continue;
      RegressionEvent ev{system.system, item.item, s.level, item.level, now, {}};
      const bool by_position = s.restored.empty() && s.states.size() == item.criteria.size();
      for (size_t k = 0; k < item.criteria.size(); ++k) {
        const auto& c = item.criteria[k];
        if (c.criterion->level > s.level || c.state != CriterionState::kFail) continue;
        bool passed_before = false;
        if (by_position) {
          passed_before = s.states[k] == CriterionState::kPass;
        } else if (auto before = s.restored.find(c.criterion->id); before != s.restored.end()) {
          passed_before = before->second == CriterionState::kPass;
        }
        if (passed_before) ev.flipped.emplace_back(c.criterion->id, c.reason);
      }
      bool regression = !ev.flipped.empty();
      update.changes.push_back({system.system, item.item, s.level, item.level, now, regression});
      if (regression) update.regressions.push_back(std::move(ev));
      rebase();
    }
  }
  return update;
}

int RegressionTracker::level(const std::string& system, const std::string& item) const {
  auto it = items_.find(system);
  if (it == items_.end()) return -1;
  for (const auto& [name, state] : it->second) {
    if (name == item) return state.level;
  }
  return -1;
}

void RegressionTracker::restore(const std::string& system, const std::string& item, int level,
                                std::map<std::string, CriterionState> states) {
  State restored;
  restored.level = level;
  restored.restored = std::move(states);
  auto& items = items_[system];
  for (auto& [name, state] : items) {
    if (name == item) {
      state = std::move(restored);
      return;
    }
  }
  items.emplace_back(item, std::move(restored));
}

}  // namespace opsm::scorer
