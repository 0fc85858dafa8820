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
//
// Every program runs in a process group of its own, with OPSMATURITY_RUN=<agent pid>.<run> in
// its environment. When it has exited, whatever it left behind is killed: the rest of its
// process group, and any process still carrying its run's mark (a child that left the group
// with setsid, or double-forked). A program that also clears its environment escapes the mark;
// see adoptOrphans() for what still catches it.
Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options);

// Makes this process the reaper of its orphaned descendants (PR_SET_CHILD_SUBREAPER): what a
// program started by runCommand leaves behind is reparented here instead of to init, so that
// reapOrphans() can reap it. As PID 1 in a container this holds without asking. Returns false
// when the kernel refuses.
bool adoptOrphans();

// Whether this process reaps orphans: adoptOrphans() succeeded, or it is PID 1.
bool reapsOrphans();

// Reaps exited children that no runCommand is waiting for (orphans reparented here) and kills
// what finished runs left behind. Never touches a child a runCommand is running. Returns how
// many processes it reaped or killed. Cheap (one pass over /proc); the daemon calls it on a
// timer when reapsOrphans().
size_t reapOrphans();

}  // namespace opsm::collectors
