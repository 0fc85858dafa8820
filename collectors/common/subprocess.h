#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/result.h"

namespace opsm::collectors {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout, at most max_output bytes
  std::string err;  // stderr, at most max_output bytes
};

struct CommandOptions {
  Duration timeout = std::chrono::seconds(30);
  size_t max_output = 16u << 20;            // more is an error, not an OOM
  std::map<std::string, std::string> env;   // added to (or replacing in) the environment
  std::vector<std::string> unset_env;       // removed from the environment
};

// Runs argv[0] (looked up on PATH) with argv, without a shell. The child is killed when the
// timeout passes or it writes more than max_output. Errors name the program only, never its
// arguments or environment (which may hold secrets).
Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options);

}  // namespace opsm::collectors
