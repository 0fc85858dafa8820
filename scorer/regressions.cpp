#include "scorer/regressions.h"

#include <algorithm>
#include <set>

namespace opsm::scorer {

namespace {

// Sets the baseline to this scoring, reusing the vector's storage. Returns whether any
// criterion's state differs from the baseline before.
bool setBaseline(const ItemScore& item, std::vector<CriterionState>* states) {
  bool differs = states->size() != item.criteria.size();
  states->resize(item.criteria.size());
  for (size_t k = 0; k < item.criteria.size(); ++k) {
    differs = differs || (*states)[k] != item.criteria[k].state;
    (*states)[k] = item.criteria[k].state;
  }
  return differs;
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
                                                     TimePoint now, const SourcePolls& polls) {
  Update update;
  for (const auto& system : scores) {
    auto& items = items_[system.system];
    bool pending = false;
    for (size_t k = 0; k < system.items.size(); ++k) {
      const auto& item = system.items[k];
      // An item not applicable to the system has no level to lose or gain: its baseline
      // stays as it was (a profile change is not a regression).
      if (!item.applicable) continue;
      State* found = find(items, item.item, k);
      if (!found) {
        State fresh;
        fresh.level = item.level;
        setBaseline(item, &fresh.states);
        changed(system.system, item.item, fresh, &item);
        items.emplace_back(item.item, std::move(fresh));
        continue;
      }
      State& s = *found;
      auto rebase = [&] {
        const bool level_changed = s.level != item.level;
        s.level = item.level;
        s.pending = 0;
        s.polls_at_drop.clear();
        s.drop_seen = false;
        bool differs = setBaseline(item, &s.states);
        if (!s.restored.empty()) {
          // The first scoring since a restore: compare with the restored states by id.
          differs = s.restored.size() != item.criteria.size();
          for (const auto& c : item.criteria) {
            auto r = s.restored.find(c.criterion->id);
            differs = differs || r == s.restored.end() || r->second != c.state;
          }
          s.restored.clear();
        }
        if (level_changed || differs) changed(system.system, item.item, s, &item);
      };
      if (item.level >= s.level) {
        if (item.level > s.level) {
          update.changes.push_back({system.system, item.item, s.level, item.level, now, false});
        }
        rebase();
        continue;
      }
      // Criteria (of levels up to the baseline level) that went from pass to fail.
      RegressionEvent ev{system.system, item.item, s.level, item.level, now, {}};
      std::vector<const Criterion*> flipped;
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
        if (passed_before) {
          ev.flipped.emplace_back(c.criterion->id, c.reason);
          flipped.push_back(c.criterion);
        }
      }
      if (!flipped.empty() && polls) {
        // Hysteresis in successful polls of the sources the flipped criteria read.
        std::map<std::string, uint64_t> current;
        for (const Criterion* c : flipped) {
          for (const auto& [source, n] : polls(system.system, *c)) current[source] = n;
        }
        if (!s.drop_seen) {
          s.drop_seen = true;
          s.polls_at_drop = current;
        }
        bool confirmed = true;
        for (const auto& [source, at] : s.polls_at_drop) {
          auto it = current.find(source);
          uint64_t n = it == current.end() ? at : it->second;
          if (n - at + 1 < static_cast<uint64_t>(hysteresis_)) confirmed = false;
        }
        if (!confirmed) {
          pending = true;
          continue;
        }
      } else if (++s.pending < hysteresis_) {
        pending = true;
        continue;
      }
      bool regression = !ev.flipped.empty();
      update.changes.push_back({system.system, item.item, s.level, item.level, now, regression});
      if (regression) update.regressions.push_back(std::move(ev));
      rebase();
    }
    if (pending) {
      pending_.insert(system.system);
    } else {
      pending_.erase(system.system);
    }
  }
  return update;
}

namespace {

void describe(const Condition& c, std::string* out) {
  *out += std::to_string(static_cast<int>(c.kind)) + "(" + c.key + "|" +
          std::to_string(static_cast<int>(c.selector)) + "|" +
          std::to_string(static_cast<int>(c.op)) + "|" + c.literal.toString();
  for (const auto& child : c.children) describe(child, out);
  *out += ")";
}

// What decides a criterion, as text: equal texts decide alike.
std::string signature(const Criterion& c) {
  std::string out = std::to_string(c.level) + (c.attestation ? "A" : "-") + c.floor_of + "|";
  if (c.when) describe(*c.when, &out);
  out += "|";
  if (c.applies_to) describe(*c.applies_to, &out);
  return out;
}

}  // namespace

void RegressionTracker::carryOver(const RulePack& previous, const RulePack& next) {
  // The criteria whose rules are the same in both packs, found once for every system.
  std::set<std::string> unchanged;
  for (const auto& after : next.items) {
    const ItemRules* before = previous.findItem(after.item);
    if (!before) continue;
    std::map<std::string, std::string> was;
    for (const auto& l : before->levels) {
      for (const auto& c : l.criteria) was[c.id] = signature(c);
    }
    for (const auto& l : after.levels) {
      for (const auto& c : l.criteria) {
        if (auto w = was.find(c.id); w != was.end() && w->second == signature(c)) {
          unchanged.insert(c.id);
        }
      }
    }
  }
  for (auto& [system, items] : items_) {
    std::vector<std::pair<std::string, State>> kept;
    for (auto& [item, state] : items) {
      const ItemRules* before = previous.findItem(item);
      const ItemRules* after = next.findItem(item);
      if (!after) {
        if (record_changes_) {
          changed_.insert_or_assign({system, item}, Baseline{system, item, state.level, {}, true});
        }
        continue;
      }
      State s;
      s.level = state.level;
      if (!before) {  // an item new to the scored pack keeps only its level
        changed(system, item, s, nullptr);
        kept.emplace_back(item, std::move(s));
        continue;
      }
      // The baseline by id (by position in `previous`, unless not scored since a restart,
      // when it is by id already), for the criteria whose rules are the same in both packs.
      std::map<std::string, CriterionState> carried;
      size_t position = 0;
      for (const auto& l : before->levels) {
        for (const auto& c : l.criteria) {
          const size_t k = position++;
          if (!unchanged.count(c.id)) continue;
          if (!state.restored.empty()) {
            if (auto r = state.restored.find(c.id); r != state.restored.end()) {
              carried.emplace(c.id, r->second);
            }
          } else if (k < state.states.size()) {
            carried.emplace(c.id, state.states[k]);
          }
        }
      }
      s.restored = std::move(carried);
      changed(system, item, s, nullptr);
      kept.emplace_back(item, std::move(s));
    }
    items = std::move(kept);
  }
}

void RegressionTracker::changed(const std::string& system, const std::string& item,
                                const State& s, const ItemScore* scored) {
  if (!record_changes_) return;
  Baseline b{system, item, s.level, {}, false};
  if (scored) {
    for (const auto& c : scored->criteria) b.states.emplace(c.criterion->id, c.state);
  } else {
    b.states = s.restored;
  }
  changed_.insert_or_assign({system, item}, std::move(b));
}

std::vector<RegressionTracker::Baseline> RegressionTracker::changedBaselines() const {
  std::vector<Baseline> out;
  out.reserve(changed_.size());
  for (const auto& [key, b] : changed_) out.push_back(b);
  return out;
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
