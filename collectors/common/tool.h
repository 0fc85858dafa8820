#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "common/result.h"

namespace opsm::collectors {

// How a collector runs a command-line tool (restic, borg, pgbackrest, git).
struct ToolOptions {
  std::string program;                      // looked up on PATH unless it holds a '/'
  std::map<std::string, std::string> env;   // e.g. RESTIC_PASSWORD; never logged
  std::vector<std::string> unset_env;       // removed from the agent's environment
  std::vector<std::string> secrets;         // values scrubbed from any error message
  size_t max_output = 64u << 20;
};

// Runs `program args...` with the poll's remaining time as timeout. A non-zero exit is an
// error "<program> <args[0]>: exit N: <first line of stderr>", with URL credentials and the
// secrets removed. Returns stdout.
Result<std::string> runTool(const ToolOptions& tool, const std::vector<std::string>& args,
                            const CollectContext& ctx);

// `text` with "scheme://user:pass@" credentials and every secret replaced by "***", and
// control characters escaped (printable()).
std::string scrub(std::string text, const std::vector<std::string>& secrets);

}  // namespace opsm::collectors
