#include "scorer/timing.h"

#include <algorithm>
#include <cmath>

namespace opsm::scorer {

namespace {

void collect(const Condition& c, std::unordered_map<std::string, std::vector<Duration>>* out) {
  for (const auto& child : c.children) collect(child, out);
  if (c.kind != Condition::Kind::kCompare || c.selector != Condition::Selector::kAge) return;
  if (!c.literal.isNumber() || !std::isfinite(c.literal.asNumber())) return;
  // The engine compares the age truncated to milliseconds with the literal: `age < L` flips
  // when the age reaches L (rounded up to a millisecond), `age <= L` one millisecond past L
  // (rounded down). Both are kept: the operator decides which one matters.
  const double ms = std::clamp(c.literal.asNumber() * 1000.0, 0.0, static_cast<double>(kMaxDurationMs));
  auto& flips = (*out)[c.key];
  flips.push_back(Duration(static_cast<long long>(std::ceil(ms))));
  flips.push_back(Duration(static_cast<long long>(std::floor(ms)) + 1));
}

}  // namespace

TimeLimits::TimeLimits(const RulePack& pack) {
  for (const auto& item : pack.items) {
    if (item.applies_to) collect(*item.applies_to, &flips_);
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        if (c.when) collect(*c.when, &flips_);
        if (c.applies_to) collect(*c.applies_to, &flips_);
      }
    }
  }
  for (auto& [_, flips] : flips_) {
    std::sort(flips.begin(), flips.end());
    flips.erase(std::unique(flips.begin(), flips.end()), flips.end());
  }
}

std::set<std::string> TimeLimits::timedKeys() const {
  std::set<std::string> out;
  for (const auto& [key, _] : flips_) out.insert(key);
  return out;
}

TimePoint TimeLimits::next(const Evidence& e, TimePoint now) const {
  TimePoint out = e.expires_at > now ? e.expires_at : TimePoint::max();
  if (flips_.empty()) return out;  // the shipped pack: no age() condition
  if (auto f = flips_.find(e.key); f != flips_.end()) {
    for (const Duration d : f->second) {
      // observed_at + d, without overflowing the clock
      if (e.observed_at > TimePoint::max() - d) break;
      const TimePoint at = e.observed_at + d;
      if (at > now) {
        out = std::min(out, at);
        break;  // sorted: the first one after now is the earliest
      }
    }
  }
  return out;
}

}  // namespace opsm::scorer
