#include "agent/daemon/daemon_clock.h"

#include <algorithm>
#include <atomic>

namespace opsm::agent {

namespace {
std::atomic<DaemonClock::rep> g_offset{0};
std::atomic<bool> g_manual{false};
constexpr DaemonClock::duration kManualWait = std::chrono::milliseconds(5);
}  // namespace

DaemonClock::time_point DaemonClock::now() noexcept {
  return time_point(std::chrono::steady_clock::now().time_since_epoch() +
                    duration(g_offset.load(std::memory_order_relaxed)));
}

void DaemonClock::setManual() { g_manual = true; }

void DaemonClock::advance(duration d) { g_offset.fetch_add(d.count()); }

void DaemonClock::reset() {
  g_offset = 0;
  g_manual = false;
}

bool DaemonClock::manual() { return g_manual.load(); }

DaemonClock::duration DaemonWaitTraits::to_wait_duration(const DaemonClock::duration& d) {
  return DaemonClock::manual() ? std::min(d, kManualWait) : d;
}

DaemonClock::duration DaemonWaitTraits::to_wait_duration(const DaemonClock::time_point& t) {
  const auto now = DaemonClock::now();
  if (t <= now) return DaemonClock::duration::zero();
  return to_wait_duration(t - now);
}

}  // namespace opsm::agent
