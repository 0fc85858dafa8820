// opsmaturity: scores IT systems against the technical operations maturity standard from
// evidence it collects itself. Wiring only: the command line, then one call per command
// (agent/cli/commands.h).
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "agent/cli/commands.h"
#include "common/log.h"

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
  auto* store_cmd = app.add_subcommand("store", "Check the agent's durable store");
  store_cmd->require_subcommand(1);
  auto* store_check = store_cmd->add_subcommand(
      "check", "Check the store for damage (SQLite integrity_check), read-only; say how to recover");
  store_check->add_option("-c,--config", config_path, "Agent config file (YAML)")->required();
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

  std::string collector_type;
  auto* collectors_cmd = app.add_subcommand(
      "collectors", "List the collector types, or print one type's config keys (Markdown)");
  collectors_cmd->add_option("type", collector_type, "A collector type");

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
    return opsm::agent::runRules(check->parsed(), list->parsed(), catalog->parsed(),
                                 coverage->parsed(), rtest->parsed(), rules_dir, standard_path,
                                 coverage_only, test_files);
  }

  if (*collectors_cmd) return opsm::agent::runCollectors(collector_type);
  if (*token_new) return opsm::agent::runTokenNew(token_name, token_role);
  if (*token_hash) return opsm::agent::runTokenHash();

  if (*export_cmd) return opsm::agent::runEvidenceExport(config_path, export_system);
  if (*store_check) return opsm::agent::runStoreCheck(config_path);

  auto agent = opsm::agent::buildAgent(config_path, listen, shard);
  if (!agent) return 2;

  if (*report) {
    return opsm::agent::runReport(*agent, report_system, report_format, report_lang,
                                  report_output);
  }
  if (*once) return opsm::agent::runOnce(*agent, once_format, json, explain, fail_below);
  return opsm::agent::runDaemon(*agent);
}
