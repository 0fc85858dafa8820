#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "scorer/rules.h"
#include "scorer/scoring.h"

namespace opsm::scorer {

// An item's level dropped because criteria it had passed now fail.
struct RegressionEvent {
  std::string system;
  std::string item;
  int old_level = 0;
  int new_level = 0;
  TimePoint at{};
  // The criteria (of levels up to old_level) that went from pass to fail, with the reason
  // the engine gives now, which names the evidence and its value.
  std::vector<std::pair<std::string, std::string>> flipped;
};

// A change of an item's level, up or down, regression or not.
struct LevelChange {
  std::string system;
  std::string item;
  int old_level = 0;
  int new_level = 0;
  TimePoint at{};
  bool regression = false;
};

// The successful polls so far of each collector whose evidence `criterion` reads for
// `system`, by collector name. Sources that are not polled (attestations, the config) are
// left out; a collector not yet polled successfully counts 0.
using SourcePolls = std::function<std::map<std::string, uint64_t>(const std::string& system,
                                                                  const Criterion& criterion)>;

// Follows item levels from one scoring to the next and tells regressions apart from drops
// caused by evidence merely going unknown (a collector outage that outlasted the TTL): only a
// drop where some criterion went from pass to fail is a regression. With hysteresis N, a drop
// where criteria flipped must be seen in N successful polls of the sources behind the flipped
// criteria (with `polls`; without it, in N consecutive scorings) before it counts: scorings
// come after the poll of any source, so counting them would let one bad poll of one source
// count N times. A recovery within them cancels it. Criteria flipped on evidence of no polled
// source (an attestation) count at once. Drops without a flipped criterion are level changes
// after N scorings. The first scoring of an item sets its baseline and reports nothing.
class RegressionTracker {
 public:
  explicit RegressionTracker(int hysteresis = 1) : hysteresis_(std::max(1, hysteresis)) {}

  struct Update {
    std::vector<LevelChange> changes;
    std::vector<RegressionEvent> regressions;
  };
  Update observe(const std::vector<SystemScore>& scores, TimePoint now,
                 const SourcePolls& polls = {});

  // The recorded level of (system, item), or -1 if none; for persistence and tests.
  int level(const std::string& system, const std::string& item) const;
  // After a rule reload: keeps each item's baseline for the criteria whose rules did not change
  // (same id, same condition, applicability, attestation and floor in `next` as in `previous`),
  // so that a real regression is still seen across a reload, and forgets the others, so that
  // what new rules decide is never counted as a regression. Items `next` lacks are dropped.
  void carryOver(const RulePack& previous, const RulePack& next);
  // Restores a baseline (after a restart) so that the next scoring compares against it.
  void restore(const std::string& system, const std::string& item, int level,
               std::map<std::string, CriterionState> states);

  // An item's baseline as it is to be kept durably: restoring it gives the tracker the same
  // comparison point (level and the state of every criterion).
  struct Baseline {
    std::string system, item;
    int level = 0;
    std::map<std::string, CriterionState> states;
    bool removed = false;  // the item is gone from the rule pack: forget its baseline
  };
  // The baselines set or changed (level or any criterion's state) since the last
  // clearChangedBaselines(), the last change of each item, and those removed by carryOver(),
  // to persist: a baseline kept only when the level changes would, after a restart, compare
  // against criterion states older than the tracker's. Restored baselines are not reported
  // until a scoring changes them. Only once recordBaselineChanges(true) (else none is kept).
  // Cleared by the caller once they are stored, so that a failed write is retried with them.
  std::vector<Baseline> changedBaselines() const;
  void clearChangedBaselines() { changed_.clear(); }
  void recordBaselineChanges(bool on) { record_changes_ = on; }

  // Systems with a drop seen at their last observation but not yet counted (hysteresis): an
  // incremental scoring must observe them again at every scoring, changed or not, so that the
  // drop is confirmed or cancelled as with every system scored every time.
  const std::set<std::string>& pendingSystems() const { return pending_; }

 private:
  struct State {
    int level = 0;
    // Criterion states when level was set, in the order of the item's criteria (the pack's
    // order, the same at every scoring; a reload starts a new tracker): a byte per criterion.
    std::vector<CriterionState> states;
    // States by criterion id restored from storage, until the item's first scoring.
    std::map<std::string, CriterionState> restored;
    int pending = 0;  // consecutive scorings below level
    // Successful polls of the sources behind the flipped criteria when the drop was first
    // seen; empty while no drop with flipped criteria is pending.
    std::map<std::string, uint64_t> polls_at_drop;
    bool drop_seen = false;
  };
  // The state of (system, item), found with one hash lookup per system and, for items scored
  // in the same order every time, none per item.
  static State* find(std::vector<std::pair<std::string, State>>& items, const std::string& item,
                     size_t hint);

  // Notes the baseline of (system, item) as changed: persisted through changedBaselines().
  void changed(const std::string& system, const std::string& item, const State& s,
               const ItemScore* scored);

  int hysteresis_;
  bool record_changes_ = false;
  std::map<std::pair<std::string, std::string>, Baseline> changed_;  // by (system, item)
  std::set<std::string> pending_;
  std::unordered_map<std::string, std::vector<std::pair<std::string, State>>> items_;
};

}  // namespace opsm::scorer
