#pragma once

#include <chrono>

#include <boost/asio/basic_waitable_timer.hpp>

namespace opsm::agent {

// The clock of the daemon's timers (polls, scorings, document checks, reaping): the steady
// clock plus an offset that only tests move (advance()), so that a timer due in an hour fires
// now and a test waits for what the daemon does, not for the wall clock. The offset is 0 in
// the agent; it is process-wide (one daemon per test at a time).
struct DaemonClock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<DaemonClock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept;
  // Tests: timers wait at most a few milliseconds at a time, to see the clock move. Call it
  // before the daemon arms its timers: a wait already started is not shortened (asio arms a
  // timerfd for the earliest timer).
  static void setManual();
  // Tests: moves the clock forward by `d` (in manual mode, timers due by then fire within
  // milliseconds).
  static void advance(duration d);
  // Tests: back to the steady clock (offset 0, waits not shortened).
  static void reset();
  static bool manual();
};

// How long asio's reactor sleeps for a timer of the daemon's clock: as long as the timer says,
// or, once a test moves the clock, a few milliseconds at a time.
struct DaemonWaitTraits {
  static DaemonClock::duration to_wait_duration(const DaemonClock::duration& d);
  static DaemonClock::duration to_wait_duration(const DaemonClock::time_point& t);
};

using DaemonTimer = boost::asio::basic_waitable_timer<DaemonClock, DaemonWaitTraits>;

}  // namespace opsm::agent
