#include "agent/cli/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "agent/cli/output.h"
#include "agent/cli/rules_cli.h"
#include "agent/core/auth.h"
#include "agent/daemon/daemon.h"
#include "agent/exposition/report.h"
#include "agent/store/store.h"
#include "collectors/collector.h"
#include "collectors/common/subprocess.h"
#include "common/hash.h"
#include "common/log.h"
#include "scorer/check.h"
#include "scorer/rule_tests.h"

namespace opsm::agent {

namespace {
int runRuleTests(const std::vector<std::string>& files,
                 const scorer::EvidenceCatalog& catalog) {
  int passed = 0, failed = 0;
  bool errors = false;
  for (const auto& f : files) {
    auto r = scorer::runRuleTests(f, catalog);
    if (!r) {
      std::printf("ERROR: %s\n", r.error().message.c_str());
      errors = true;
      continue;
    }
    for (const auto& failure : r->failures) std::printf("FAILED: %s\n", failure.c_str());
    passed += r->passed;
    failed += r->failed;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed > 0 || errors ? 1 : 0;
}

// Prints on stderr each failed poll (`failed_note` after "failed") and each poll's warning;
// returns whether every poll succeeded.
bool printPollProblems(const std::vector<PollOutcome>& polls,
                       const char* failed_note) {
  bool all_ok = true;
  for (const auto& p : polls) {
    if (!p.ok) {
      all_ok = false;
      std::fprintf(stderr, "opsmaturity: collector %s failed%s: %s\n", p.collector.c_str(),
                   failed_note, p.error.c_str());
    } else if (!p.warning.empty()) {
      std::fprintf(stderr, "opsmaturity: warning: %s\n", p.warning.c_str());
    }
  }
  return all_ok;
}

}  // namespace

std::unique_ptr<Agent> buildAgent(const std::string& config_path, const std::string& listen,
                                  const std::string& shard) {
  collectors::Registry registry;
  if (auto st = collectors::registerAll(registry); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().describe().c_str());
    return nullptr;
  }
  auto config = loadConfig(config_path, registry);
  if (!config) {
    std::fprintf(stderr, "opsmaturity: %s\n", config.error().message.c_str());
    return nullptr;
  }
  if (!listen.empty()) {
    if (auto la = parseListenAddress(listen); !la) {
      std::fprintf(stderr, "opsmaturity: --listen: %s\n", la.error().message.c_str());
      return nullptr;
    }
    config->listen_address = listen;
  }
  if (!shard.empty()) {
    auto s = parseShard(shard);
    if (!s) {
      std::fprintf(stderr, "opsmaturity: --shard: %s\n", s.error().message.c_str());
      return nullptr;
    }
    config->shard = *s;
  }
  // What `rules check` flags (a condition on a key no collector produces, an operator of the
  // wrong type, a `when` without a rationale) loads, but is said loudly at start.
  if (auto catalog = registry.catalog()) {
    for (const auto& p : scorer::checkRulePack(config->rules_dir, *catalog)) {
      logger("agent")->warn("rules: {} (see `opsmaturity rules check`)", p.describe());
    }
  }
  auto agent = Agent::create(std::move(*config));
  if (!agent) {
    std::fprintf(stderr, "opsmaturity: %s\n", agent.error().message.c_str());
    return nullptr;
  }
  return std::move(*agent);
}

int runRules(bool check, bool list, bool catalog, bool coverage, bool test, const std::string& dir,
             const std::string& standard, bool coverage_only,
             const std::vector<std::string>& test_files) {
  collectors::Registry registry;
  if (auto st = collectors::registerAll(registry); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().describe().c_str());
    return 2;
  }
  auto keys = registry.catalog();
  if (!keys) {
    std::fprintf(stderr, "opsmaturity: %s\n", keys.error().describe().c_str());
    return 2;
  }
  if (test) return runRuleTests(test_files, *keys);
  if (check) {
    auto problems = scorer::checkRulePack(dir, *keys, standard);
    for (const auto& p : problems) std::printf("%s\n", p.describe().c_str());
    size_t errors = std::count_if(problems.begin(), problems.end(),
                                  [](const scorer::Problem& p) { return !p.warning; });
    if (errors) {
      std::printf("rules check: %zu problem(s) in %s\n", errors, dir.c_str());
      return 1;
    }
    auto pack = scorer::loadRulePack(dir);
    size_t criteria = 0;
    for (const auto& item : pack->items) {
      for (const auto& level : item.levels) criteria += level.criteria.size();
    }
    std::printf("rules check: %s is valid: %zu items, %zu criteria%s%s\n", dir.c_str(),
                pack->items.size(), criteria,
                standard.empty() ? "" : ", every requirement of the standard encoded",
                problems.empty() ? "" : (", " + std::to_string(problems.size()) + " warning(s)").c_str());
    return 0;
  }
  auto pack = scorer::loadRulePack(dir);
  if (!pack) {
    std::fprintf(stderr, "opsmaturity: %s\n", pack.error().message.c_str());
    return 2;
  }
  if (list) {
    if (!coverage_only) std::cout << renderRuleList(*pack) << "\n";
    std::cout << renderCoverage(*pack);
    return 0;
  }
  if (catalog) {
    std::cout << renderEvidenceCatalog(*keys, *pack);
    return 0;
  }
  if (coverage) {
    std::cout << renderCoverageDoc(*keys, *pack);
    return 0;
  }
  return 2;
}

int runTokenNew(const std::string& token_name, const std::string& token_role) {
  if (!isValidTokenName(token_name)) {
    std::fprintf(stderr, "opsmaturity: --name must be 1-64 characters of A-Z a-z 0-9 . _ @ -\n");
    return 2;
  }
  const std::string token = randomToken(32);
  if (token.empty()) {
    std::fprintf(stderr, "opsmaturity: the system's random generator failed\n");
    return 2;
  }
  // The token on stdout alone's first line, for scripts; the entry after it.
  std::cout << token << "\n";
  std::cerr << "Give the token above to " << token_name
            << " (it is not stored anywhere); add this entry to the tokens file:\n";
  std::cout << "  - {name: " << token_name << ", role: " << token_role
            << ", sha256: " << sha256Hex(token) << "}\n";
  return 0;
}

int runTokenHash() {
  std::string token;
  std::getline(std::cin, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) {
    std::fprintf(stderr, "opsmaturity: no token on standard input\n");
    return 2;
  }
  std::cout << sha256Hex(token) << "\n";
  return 0;
}

int runCollectors(const std::string& type) {
  collectors::Registry registry;
  if (auto st = collectors::registerAll(registry); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().message.c_str());
    return 2;
  }
  if (type.empty()) {
    for (const auto& t : registry.types()) std::cout << t << "\n";
    return 0;
  }
  const collectors::CollectorFactory* factory = registry.find(type);
  if (!factory) {
    std::string known;
    for (const auto& t : registry.types()) known += (known.empty() ? "" : ", ") + t;
    std::fprintf(stderr, "opsmaturity: '%s' is not a collector type (known: %s)\n", type.c_str(),
                 known.c_str());
    return 2;
  }
  std::cout << factory->configSchema().markdown();
  return 0;
}

namespace {

// The config of a command that reads the store (`evidence export`, `store check`), or nullopt
// after saying why on stderr: it does not load, or sets no storage_path (`no_store` says what
// that means for the command).
std::optional<AgentConfig> configWithStore(const std::string& config_path,
                                           const char* no_store) {
  collectors::Registry registry;
  if (auto st = collectors::registerAll(registry); !st) return std::nullopt;
  auto config = loadConfig(config_path, registry);
  if (!config) {
    std::fprintf(stderr, "opsmaturity: %s\n", config.error().message.c_str());
    return std::nullopt;
  }
  if (config->storage_path.empty()) {
    std::fprintf(stderr, "opsmaturity: %s sets no storage_path: %s\n", config_path.c_str(),
                 no_store);
    return std::nullopt;
  }
  return std::move(*config);
}

}  // namespace

int runEvidenceExport(const std::string& config_path, const std::string& export_system) {
  auto config = configWithStore(config_path, "nothing is stored to export");
  if (!config) return 2;
  auto store = Store::open(config->storage_path,
                                       Store::Access::kReadOnly);
  if (!store) {
    std::fprintf(stderr, "opsmaturity: %s\n", store.error().message.c_str());
    return 2;
  }
  std::map<std::string, std::vector<std::string>> systems_from;
  for (const auto& c : config->collectors) systems_from[c.name] = c.systems_from;
  auto json = (*store)->exportSystem(export_system, systems_from);
  if (!json) {
    std::fprintf(stderr, "opsmaturity: %s\n", json.error().message.c_str());
    return 2;
  }
  std::cout << *json << "\n";
  return 0;
}

int runStoreCheck(const std::string& config_path) {
  auto config = configWithStore(config_path, "there is no store to check");
  if (!config) return 2;
  const std::string& path = config->storage_path;
  auto problems = Store::check(path);
  if (!problems) {
    std::fprintf(stderr, "opsmaturity: %s\n", problems.error().message.c_str());
    return 2;
  }
  if (problems->empty()) {
    std::cout << path << ": ok (integrity_check found no damage)\n";
    return 0;
  }
  std::cout << path << ": damaged; SQLite's integrity_check found:\n";
  for (const auto& problem : *problems) std::cout << "  " << problem << "\n";
  const std::string& p = path;  // the commands name it often
  std::cout << "\nTo recover (docs/deploy.md#a-damaged-store), with the agent stopped:\n"
            << "  cp " << p << " " << p << ".damaged\n"
            << "  sqlite3 " << p << ".damaged .recover | sqlite3 " << p << ".recovered\n"
            << "  sqlite3 " << p << ".recovered 'PRAGMA application_id=1330664269; "
            << "PRAGMA user_version=" << Store::kSchemaVersion << ";'\n"
            << "  opsmaturity store check (with storage_path at " << p
            << ".recovered), then move it into place.\n"
            << "What .recover cannot read is lost; collectors bring evidence back at their next "
               "poll.\n";
  return 1;
}

int runReport(Agent& agent_ref, const std::string& report_system, const std::string& report_format,
              const std::string& report_lang, const std::string& report_output) {
  Agent* agent = &agent_ref;
  auto polls = agent->pollAll();
  printPollProblems(polls, " (its stored evidence, if any, is used)");
  agent->rescore();
  auto text = renderReport(
      *agent, report_system,
      report_format == "md" ? ReportFormat::kMarkdown : ReportFormat::kHtml,
      report_lang == "en" ? ReportLang::kEn : ReportLang::kZh,
      agent->now());
  if (!text) {
    std::fprintf(stderr, "opsmaturity: %s\n", text.error().message.c_str());
    return 2;
  }
  if (report_output.empty()) {
    std::cout << *text;
  } else {
    std::ofstream out(report_output, std::ios::binary);
    out << *text;
    if (!out) {
      std::fprintf(stderr, "opsmaturity: cannot write %s\n", report_output.c_str());
      return 2;
    }
  }
  return 0;
}

int runOnce(Agent& agent_ref, std::string once_format, bool json, bool explain, int fail_below) {
  Agent* agent = &agent_ref;
  auto polls = agent->pollAll();
  agent->rescore();
  const bool all_ok = printPollProblems(polls, "");
  for (const auto& system : agent->knownSystems()) {
    if (!agent->knownToACollector(system)) {
      std::fprintf(stderr,
                   "opsmaturity: warning: system %s is declared but no source knows it: its "
                   "collected criteria are unknown\n",
                   system.c_str());
    }
  }
  if (json) once_format = "json";
  if (once_format == "json") {
    writeJson(std::cout, *agent, polls);
  } else if (once_format == "junit") {
    std::cout << renderJunit(*agent);
  } else if (once_format == "csv") {
    std::cout << renderCsv(*agent);
  } else {
    std::cout << renderTable(*agent, explain);
  }
  if (fail_below >= 0) {
    int below = 0;
    for (const auto& s : agent->scores()) {
      if (s.level + 1e-9 < fail_below) {
        std::fprintf(stderr, "opsmaturity: %s is at level %.2f, below %d\n", s.system.c_str(),
                     s.level, fail_below);
        ++below;
      }
    }
    if (below) return 3;
  }
  return all_ok ? 0 : 1;
}

int runDaemon(Agent& agent_ref) {
  Agent* agent = &agent_ref;
  // What exec plugins leave behind is reparented to the agent, reaped and killed (as PID 1 in
  // a container too), not left to pile up as orphans and zombies.
  if (!collectors::adoptOrphans() && getpid() != 1) {
    logger("agent")->warn(
        "cannot become the subreaper of plugins' orphans (prctl: {}); what a plugin leaves "
        "behind outside its process group and environment is left to init",
        std::strerror(errno));
  }
  auto daemon = std::make_unique<Daemon>(*agent);
  if (auto st = daemon->start(); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().message.c_str());
    return 2;
  }
  daemon->run(/*handle_signals=*/true);
  // Stopping waits for the polls, the scoring and the writes still running: a source stuck in
  // a read that ignores its deadline (or a bug) must not keep the agent from stopping. After
  // stop_timeout it exits without them; every write is a transaction, so what was committed
  // is kept and what was not is not half-kept.
  const Duration stop_timeout = agent->config().stop_timeout;
  if (!finishWithin(stop_timeout, [&] { daemon.reset(); })) {  // joins the pools
    logger("agent")->warn(
        "work still running {} after the stop signal (stop_timeout): exiting without it",
        formatDuration(stop_timeout));
    spdlog::shutdown();
    std::_Exit(0);
  }
  return 0;
}

}  // namespace opsm::agent
