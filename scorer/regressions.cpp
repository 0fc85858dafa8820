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
                                                     TimePoint now, const SourcePolls& polls) {
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
        s.polls_at_drop.clear();
        s.drop_seen = false;
        setBaseline(item, &s.states);
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
        if (!confirmed) continue;
      } else if (++s.pending < hysteresis_) {
        continue;
      }
      bool regression = !ev.flipped.empty();
      update.changes.push_back({system.system, item.item, s.level, item.level, now, regression});
      if (regression) update.regressions.push_back(std::move(ev));
      rebase();
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
  for (auto& [system, items] : items_) {
    std::vector<std::pair<std::string, State>> kept;
    for (auto& [item, state] : items) {
      const ItemRules* before = previous.findItem(item);
      const ItemRules* after = next.findItem(item);
      if (!after) continue;
      std::map<std::string, std::string> now;  // id -> signature in the new rules
      for (const auto& l : after->levels) {
        for (const auto& c : l.criteria) now[c.id] = signature(c);
      }
      std::map<std::string, CriterionState> carried;
      if (!state.restored.empty()) {
        carried = state.restored;  // not scored since a restart: already by id
      } else if (before) {
        size_t k = 0;
        for (const auto& l : before->levels) {
          for (const auto& c : l.criteria) {
            if (k < state.states.size()) carried[c.id] = state.states[k];
            ++k;
          }
        }
      }
      std::map<std::string, std::string> was;
      if (before) {
        for (const auto& l : before->levels) {
          for (const auto& c : l.criteria) was[c.id] = signature(c);
        }
      }
      std::erase_if(carried, [&](const auto& kv) {
        auto n = now.find(kv.first);
        auto w = was.find(kv.first);
        return n == now.end() || w == was.end() || n->second != w->second;
      });
      State s;
      s.level = state.level;
      s.restored = std::move(carried);
      kept.emplace_back(item, std::move(s));
    }
    items = std::move(kept);
  }
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
