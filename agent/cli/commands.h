#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/core/agent.h"

namespace opsm::agent {

// The commands of the opsmaturity binary (docs/man/opsmaturity.1). Each returns the process's
// exit status (0 ok, 1 a failed collector or check, 2 a usage or start-up error, 3 below
// --fail-below) and writes its errors on stderr, naming the file, line and field.

// Loads the config (with --listen and --shard overrides) and creates the agent; null after
// saying why.
std::unique_ptr<Agent> buildAgent(const std::string& config_path, const std::string& listen,
                                  const std::string& shard);
// `rules check|list|catalog|coverage|test`.
int runRules(bool check, bool list, bool catalog, bool coverage, bool test, const std::string& dir,
             const std::string& standard, bool coverage_only,
             const std::vector<std::string>& test_files);
// `collectors [TYPE]`: the registered types, or the config keys of one (Markdown).
int runCollectors(const std::string& type);
// `token new` and `token hash`.
int runTokenNew(const std::string& token_name, const std::string& token_role);
int runTokenHash();
// `evidence export`: what the store keeps of one system, read beside a running agent.
int runEvidenceExport(const std::string& config_path, const std::string& export_system);
// `store check`: integrity_check of the store, read-only; 0 when sound, 1 when damaged (with
// how to recover), 2 when it cannot be read at all.
int runStoreCheck(const std::string& config_path);
// `report`: polls once, scores, writes one system's report.
int runReport(Agent& agent, const std::string& report_system, const std::string& report_format,
              const std::string& report_lang, const std::string& report_output);
// `once`: polls once, scores, prints (table, json, junit, csv).
int runOnce(Agent& agent, std::string once_format, bool json, bool explain, int fail_below);
// `run`: the daemon, until SIGINT or SIGTERM.
int runDaemon(Agent& agent);

}  // namespace opsm::agent
