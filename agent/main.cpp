// opsmaturity: scores IT systems against the technical operations maturity standard from
// evidence it collects itself. Wiring only; the work is in the libraries.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/hash.h"
#include "agent/auth.h"
#include "agent/agent.h"
#include "agent/store.h"
#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/output.h"
#include "agent/report.h"
#include "agent/rules_cli.h"
#include "collectors/collector.h"
#include "collectors/common/subprocess.h"
#include "common/log.h"
#include "scorer/check.h"
#include "scorer/rule_tests.h"

namespace {

using opsm::agent::Agent;

std::unique_ptr<Agent> buildAgent(const std::string& config_path, const std::string& listen,
                                  const std::string& shard) {
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
  if (!shard.empty()) {
    auto s = opsm::agent::parseShard(shard);
    if (!s) {
      std::fprintf(stderr, "opsmaturity: --shard: %s\n", s.error().message.c_str());
      return nullptr;
    }
    config->shard = *s;
  }
  // What `rules check` flags (a condition on a key no collector produces, an operator of the
  // wrong type, a `when` without a rationale) loads, but is said loudly at start.
  if (auto catalog = registry.catalog()) {
    for (const auto& p : opsm::scorer::checkRulePack(config->rules_dir, *catalog)) {
      opsm::logger("agent")->warn("rules: {} (see `opsmaturity rules check`)", p.describe());
    }
  }
  auto agent = Agent::create(std::move(*config));
  if (!agent) {
    std::fprintf(stderr, "opsmaturity: %s\n", agent.error().message.c_str());
    return nullptr;
  }
  return std::move(*agent);
}

int runRuleTests(const std::vector<std::string>& files,
                 const opsm::scorer::EvidenceCatalog& catalog) {
  int passed = 0, failed = 0;
  bool errors = false;
  for (const auto& f : files) {
    auto r = opsm::scorer::runRuleTests(f, catalog);
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
bool printPollProblems(const std::vector<opsm::agent::PollOutcome>& polls,
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

int runRules(bool check, bool list, bool catalog, bool coverage, bool test, const std::string& dir,
             const std::string& standard, bool coverage_only,
             const std::vector<std::string>& test_files) {
  opsm::collectors::Registry registry;
  if (auto st = opsm::collectors::registerAll(registry); !st) {
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
    auto problems = opsm::scorer::checkRulePack(dir, *keys, standard);
    for (const auto& p : problems) std::printf("%s\n", p.describe().c_str());
    size_t errors = std::count_if(problems.begin(), problems.end(),
                                  [](const opsm::scorer::Problem& p) { return !p.warning; });
    if (errors) {
      std::printf("rules check: %zu problem(s) in %s\n", errors, dir.c_str());
      return 1;
    }
    auto pack = opsm::scorer::loadRulePack(dir);
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
  auto pack = opsm::scorer::loadRulePack(dir);
  if (!pack) {
    std::fprintf(stderr, "opsmaturity: %s\n", pack.error().message.c_str());
    return 2;
  }
  if (list) {
    if (!coverage_only) std::cout << opsm::agent::renderRuleList(*pack) << "\n";
    std::cout << opsm::agent::renderCoverage(*pack);
    return 0;
  }
  if (catalog) {
    std::cout << opsm::agent::renderEvidenceCatalog(*keys, *pack);
    return 0;
  }
  if (coverage) {
    std::cout << opsm::agent::renderCoverageDoc(*keys, *pack);
    return 0;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives every thread that allocates an arena of its own (up to 8 per core): evidence
  // parsed on max_concurrent_polls poll threads then stays spread over as many arenas, and
  // 1,000 sources on 16 threads held 275 MiB instead of 152 (bench/README.md). Two arenas
  // are plenty for an agent whose threads mostly wait on the network. MALLOC_ARENA_MAX, when
  // set, still decides.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  CLI::App app{"opsmaturity: continuous technical operations maturity scoring"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log.level", log_level, "trace, debug, info, warn, error or off");
  app.set_version_flag("--version", std::string(OPSM_VERSION) + " (" + OPSM_REVISION + ")");

  std::string config_path, listen, shard;
  auto* run = app.add_subcommand("run", "Poll collectors on schedule, score, serve /metrics");
  run->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
  run->add_option("--listen", listen, "Override listen_address, host:port");
  run->add_option("--shard", shard, "Score only shard i of n (i/n, e.g. 0/3); overrides `shard`");

  bool json = false, explain = false;
  auto* once = app.add_subcommand("once", "Poll every collector once, score and print");
  once->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
  once->add_flag("--json", json, "Print JSON with criteria, reasons and evidence (--format json)");
  std::string once_format = "table";
  once->add_option("--format", once_format,
                   "table, json, junit (a test case per criterion and system) or csv")
      ->check(CLI::IsMember({"table", "json", "junit", "csv"}))
      ->capture_default_str();
  int fail_below = -1;
  once->add_option("--fail-below", fail_below,
                   "Exit with status 3 when a system's (strict) level is below LEVEL")
      ->check(CLI::Range(0, 5));
  once->add_option("--shard", shard, "Score only shard i of n (i/n); overrides `shard`");
  once->add_flag("--explain", explain, "List every criterion with its state and reason");

  std::string rules_dir = "rules", standard_path;
  auto* evidence_cmd = app.add_subcommand("evidence", "Read the agent's stored evidence");
  evidence_cmd->require_subcommand(1);
  auto* export_cmd = evidence_cmd->add_subcommand(
      "export", "Print everything stored about a system as JSON (evidence, history, regressions)");
  std::string export_system;
  export_cmd->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
  export_cmd->add_option("--system", export_system, "The system")->required();
  auto* report = app.add_subcommand(
      "report", "Poll every collector once, score, and write the assessment report of a system");
  std::string report_system, report_format = "html", report_lang = "zh", report_output;
  report->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
  report->add_option("--system", report_system, "The system")->required();
  report->add_option("--format", report_format, "html or md")
      ->check(CLI::IsMember({"html", "md"}))
      ->capture_default_str();
  report->add_option("--lang", report_lang, "zh or en")->check(CLI::IsMember({"zh", "en"}))
      ->capture_default_str();
  report->add_option("-o,--output", report_output, "Write to this file instead of stdout");
  auto* rules = app.add_subcommand("rules", "Check, list and test the rule pack");
  rules->require_subcommand(1);
  auto* check = rules->add_subcommand("check", "Validate the rule pack; report every problem");
  check->add_option("dir", rules_dir, "Rule pack directory")->capture_default_str();
  check->add_option("--standard", standard_path,
                    "The standard's text: check every numbered requirement has its criterion");
  auto* list = rules->add_subcommand("list", "Print every criterion and the automation coverage");
  list->add_option("dir", rules_dir, "Rule pack directory")->capture_default_str();
  bool coverage_only = false;
  list->add_flag("--coverage", coverage_only, "Print only the automation coverage");
  auto* catalog = rules->add_subcommand("catalog", "Print the evidence catalog (Markdown)");
  catalog->add_option("dir", rules_dir, "Rule pack directory")->capture_default_str();
  auto* coverage = rules->add_subcommand(
      "coverage", "Print how each requirement is decided, with sources and rationale (Markdown)");
  coverage->add_option("dir", rules_dir, "Rule pack directory")->capture_default_str();

  std::vector<std::string> test_files;
  auto* rtest = rules->add_subcommand("test", "Run rule unit tests (promtool-style YAML files)");
  rtest->add_option("files", test_files, "Rule test files")->required()->check(CLI::ExistingFile);

  auto* token_cmd = app.add_subcommand("token", "Make tokens for the tokens file");
  token_cmd->require_subcommand(1);
  auto* token_new = token_cmd->add_subcommand(
      "new", "Print a new random token and its tokens-file entry (only the SHA-256 is kept)");
  std::string token_name, token_role = "viewer";
  token_new->add_option("--name", token_name, "Who holds it (shown in logs and the audit log)")
      ->required();
  token_new->add_option("--role", token_role, "viewer, attester, approver or admin")
      ->check(CLI::IsMember({"viewer", "attester", "approver", "admin"}))
      ->capture_default_str();
  auto* token_hash = token_cmd->add_subcommand(
      "hash", "Print the SHA-256 of a token read from standard input (for an existing token)");

  CLI11_PARSE(app, argc, argv);
  if (!opsm::setLogLevel(log_level)) {
    std::fprintf(stderr, "opsmaturity: --log.level: unknown level '%s'\n", log_level.c_str());
    return 2;
  }

  if (*rules) {
    return runRules(check->parsed(), list->parsed(), catalog->parsed(), coverage->parsed(),
                    rtest->parsed(), rules_dir,
                    standard_path, coverage_only, test_files);
  }

  if (*token_new) {
    if (!opsm::agent::isValidTokenName(token_name)) {
      std::fprintf(stderr, "opsmaturity: --name must be 1-64 characters of A-Z a-z 0-9 . _ @ -\n");
      return 2;
    }
    const std::string token = opsm::randomToken(32);
    if (token.empty()) {
      std::fprintf(stderr, "opsmaturity: the system's random generator failed\n");
      return 2;
    }
    // The token on stdout alone's first line, for scripts; the entry after it.
    std::cout << token << "\n";
    std::cerr << "Give the token above to " << token_name
              << " (it is not stored anywhere); add this entry to the tokens file:\n";
    std::cout << "  - {name: " << token_name << ", role: " << token_role
              << ", sha256: " << opsm::sha256Hex(token) << "}\n";
    return 0;
  }
  if (*token_hash) {
    std::string token;
    std::getline(std::cin, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) {
      std::fprintf(stderr, "opsmaturity: no token on standard input\n");
      return 2;
    }
    std::cout << opsm::sha256Hex(token) << "\n";
    return 0;
  }

  if (*export_cmd) {
    opsm::collectors::Registry registry;
    if (auto st = opsm::collectors::registerAll(registry); !st) return 2;
    auto config = opsm::agent::loadConfig(config_path, registry);
    if (!config) {
      std::fprintf(stderr, "opsmaturity: %s\n", config.error().message.c_str());
      return 2;
    }
    if (config->storage_path.empty()) {
      std::fprintf(stderr, "opsmaturity: %s sets no storage_path: nothing is stored to export\n",
                   config_path.c_str());
      return 2;
    }
    auto store = opsm::agent::Store::open(config->storage_path,
                                         opsm::agent::Store::Access::kReadOnly);
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

  auto agent = buildAgent(config_path, listen, shard);
  if (!agent) return 2;

  if (*report) {
    auto polls = agent->pollAll();
    printPollProblems(polls, " (its stored evidence, if any, is used)");
    agent->rescore();
    auto text = opsm::agent::renderReport(
        *agent, report_system,
        report_format == "md" ? opsm::agent::ReportFormat::kMarkdown : opsm::agent::ReportFormat::kHtml,
        report_lang == "en" ? opsm::agent::ReportLang::kEn : opsm::agent::ReportLang::kZh,
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

  if (*once) {
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
      std::cout << opsm::agent::renderJson(*agent, polls);
    } else if (once_format == "junit") {
      std::cout << opsm::agent::renderJunit(*agent);
    } else if (once_format == "csv") {
      std::cout << opsm::agent::renderCsv(*agent);
    } else {
      std::cout << opsm::agent::renderTable(*agent, explain);
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

  // What exec plugins leave behind is reparented to the agent, reaped and killed (as PID 1 in
  // a container too), not left to pile up as orphans and zombies.
  if (!opsm::collectors::adoptOrphans() && getpid() != 1) {
    opsm::logger("agent")->warn(
        "cannot become the subreaper of plugins' orphans (prctl: {}); what a plugin leaves "
        "behind outside its process group and environment is left to init",
        std::strerror(errno));
  }
  opsm::agent::Daemon daemon(*agent);
  if (auto st = daemon.start(); !st) {
    std::fprintf(stderr, "opsmaturity: %s\n", st.error().message.c_str());
    return 2;
  }
  daemon.run(/*handle_signals=*/true);
  return 0;
}
