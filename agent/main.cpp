// opsmaturity: scores IT systems against the technical operations maturity standard from
// evidence it collects itself. Wiring only; the work is in the libraries.
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/output.h"
#include "collectors/collector.h"
#include "common/log.h"

namespace {

using opsm::agent::Agent;

std::unique_ptr<Agent> buildAgent(const std::string& config_path, const std::string& listen) {
  opsm::collectors::Registry registry;
  if (auto st = opsm::collectors::registerAll(registry); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().describe().c_str());
    return nullptr;
  }
  auto config = opsm::agent::loadConfig(config_path, registry);
  if (!config) {
    std::fprintf(stderr, "opsmaturity: %s\n", config.error().message.c_str());
    return nullptr;
  }
  if (!listen.empty()) {
    if (auto la = opsm::agent::parseListenAddress(listen); !la) {
      std::fprintf(stderr, "opsmaturity: --listen: %s\n", la.error().message.c_str());
      return nullptr;
    }
    config->listen_address = listen;
  }
  auto agent = Agent::create(std::move(*config));
  if (!agent) {
    std::fprintf(stderr, "opsmaturity: %s\n", agent.error().message.c_str());
    return nullptr;
  }
  return std::move(*agent);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"opsmaturity: continuous technical operations maturity scoring"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log.level", log_level, "trace, debug, info, warn, error or off");
  app.set_version_flag("--version", std::string(OPSM_VERSION) + " (" + OPSM_REVISION + ")");

  std::string config_path, listen;
  auto* run = app.add_subcommand("run", "Poll collectors on schedule, score, serve /metrics");
  run->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
  run->add_option("--listen", listen, "Override listen_address, host:port");

  bool json = false, explain = false;
  auto* once = app.add_subcommand("once", "Poll every collector once, score and print");
  once->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
  once->add_flag("--json", json, "Print JSON with criteria, reasons and evidence");
  once->add_flag("--explain", explain, "List every criterion with its state and reason");

  CLI11_PARSE(app, argc, argv);
  if (!opsm::setLogLevel(log_level)) {
    std::fprintf(stderr, "opsmaturity: --log.level: unknown level '%s'\n", log_level.c_str());
    return 2;
  }

  auto agent = buildAgent(config_path, listen);
  if (!agent) return 2;

  if (*once) {
    auto polls = agent->pollAll();
    agent->rescore();
    bool all_ok = true;
    for (const auto& p : polls) {
      if (!p.ok) {
        all_ok = false;
        std::fprintf(stderr, "opsmaturity: collector %s failed: %s\n", p.collector.c_str(),
                     p.error.c_str());
      }
    }
    std::cout << (json ? opsm::agent::renderJson(*agent, polls)
                       : opsm::agent::renderTable(*agent, explain));
    return all_ok ? 0 : 1;
  }

  opsm::agent::Daemon daemon(*agent);
  if (auto st = daemon.start(); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().message.c_str());
    return 2;
  }
  daemon.run(/*handle_signals=*/true);
  return 0;
}
