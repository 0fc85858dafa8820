#pragma once

#include <memory>
#include <string>
#include <thread>

#include "agent/core/agent.h"
#include "agent/daemon/daemon.h"
#include "collectors/collector.h"
#include "tests/support/process.h"

namespace opsm::testing {

// An agent daemon running in this process for a test: the config file loaded, the agent
// created, the daemon serving on its own thread (listen_address 127.0.0.1:0 picks a port),
// ready once every collector has been polled. Stopped by the destructor.
class RunningAgent {
 public:
  // Fails (nullptr, `error` set) on a config, agent or listen error, or when not ready in 10 s.
  static std::unique_ptr<RunningAgent> start(const std::string& config_path, std::string* error) {
    std::unique_ptr<RunningAgent> r(new RunningAgent);
    if (auto st = collectors::registerAll(r->registry_); !st) {
      *error = st.error().message;
      return nullptr;
    }
    auto config = agent::loadConfig(config_path, r->registry_);
    if (!config) {
      *error = config.error().message;
      return nullptr;
    }
    auto a = agent::Agent::create(std::move(*config));
    if (!a) {
      *error = a.error().message;
      return nullptr;
    }
    r->agent_ = std::move(*a);
    r->daemon_ = std::make_unique<agent::Daemon>(*r->agent_);
    if (auto st = r->daemon_->start(); !st) {
      *error = st.error().message;
      return nullptr;
    }
    r->runner_ = std::thread([d = r->daemon_.get()] { d->run(false); });
    r->base_ = "http://127.0.0.1:" + std::to_string(r->daemon_->port());
    if (!waitFor([&] { return r->agent_->ready(); }, std::chrono::seconds(10))) {
      *error = "the agent was not ready within 10 s";
      return nullptr;
    }
    return r;
  }
  ~RunningAgent() {
    if (runner_.joinable()) {
      daemon_->stop();
      runner_.join();
    }
  }
  RunningAgent(const RunningAgent&) = delete;
  RunningAgent& operator=(const RunningAgent&) = delete;

  agent::Agent& agent() { return *agent_; }
  // http://127.0.0.1:PORT
  const std::string& base() const { return base_; }

 private:
  RunningAgent() = default;
  collectors::Registry registry_;
  std::unique_ptr<agent::Agent> agent_;
  std::unique_ptr<agent::Daemon> daemon_;
  std::thread runner_;
  std::string base_;
};

}  // namespace opsm::testing
