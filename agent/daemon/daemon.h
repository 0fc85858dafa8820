#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "agent/core/agent.h"
#include "agent/exposition/http_server.h"
#include "agent/exposition/routes.h"

namespace opsm::agent {

// Runs `work` (a teardown that joins threads) and waits at most `timeout` for it: true when
// it finished, false when it did not (it is then left running on a detached thread, for the
// caller to exit without it). How `run` stops within stop_timeout whatever is still running.
bool finishWithin(Duration timeout, std::function<void()> work);

// The long-running agent: polls each collector on its own interval (with its timeout) on a
// worker pool of max_concurrent_polls threads (sources whose last poll timed out on a smaller
// pool of their own), rescores after polls (coalesced) and every score_interval, and serves
// HTTP. See docs/architecture.md#scheduling.
class Daemon {
 public:
  explicit Daemon(Agent& agent);
  ~Daemon();

  // Binds the listen address (port 0 picks one) and schedules the first polls.
  Status start();
  // Runs until stop() is called or SIGINT/SIGTERM arrives (when handle_signals).
  void run(bool handle_signals);
  // Thread-safe.
  void stop();
  unsigned short port() const;
  // How many scorings were asked for so far (after polls, by score_interval, for
  // readiness): tests wait for one instead of for the wall clock. Thread-safe.
  uint64_t scoringsRequested() const;
  // Tests: moves the daemon's clock (DaemonClock::advance; DaemonClock::setManual() before
  // start()) and wakes its I/O thread.
  void advanceClock(std::chrono::steady_clock::duration d);

 private:
  void waitForHup();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsm::agent
