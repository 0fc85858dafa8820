#include "collectors/common/subprocess.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

extern char** environ;

namespace opsm::collectors {

namespace {

// What the reaper must leave alone: children a runCommand waits for, and runs not finished.
// Held while spawning and registering a child, so the reaper never sees it unregistered.
std::mutex g_mutex;
std::set<pid_t> g_children;
std::set<uint64_t> g_active_runs;
std::atomic<uint64_t> g_next_run{1};
std::atomic<bool> g_subreaper{false};

constexpr const char* kRunVariable = "OPSMATURITY_RUN";

std::string runMarkPrefix() {
  return std::string(kRunVariable) + "=" + std::to_string(getpid()) + ".";
}

// A process as /proc/<pid>/stat shows it: its parent and its state ('Z' for a zombie).
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
};

bool readSmallFile(const std::string& path, std::string& out, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(std::min<size_t>(static_cast<size_t>(n),
                                                          limit - out.size())));
    if (out.size() >= limit) break;
  }
  close(fd);
  return true;
}

template <typename F>
void forEachProcess(F&& f) {
  DIR* dir = opendir("/proc");
  if (!dir) return;
  std::string text;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || !end || *end != '\0') continue;
    if (!readSmallFile("/proc/" + std::string(e->d_name) + "/stat", text, 4096)) continue;
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses, the last ')' ends it.
    auto close_paren = text.rfind(')');
    if (close_paren == std::string::npos || close_paren + 4 > text.size()) continue;
    ProcStat p;
    p.pid = static_cast<pid_t>(pid);
    p.state = text[close_paren + 2];
    p.ppid = static_cast<pid_t>(std::strtol(text.c_str() + close_paren + 4, nullptr, 10));
    f(p);
  }
  closedir(dir);
}

// The run of ours whose mark a process carries in its environment, or 0.
uint64_t runOf(pid_t pid, const std::string& prefix) {
  std::string env;
  if (!readSmallFile("/proc/" + std::to_string(pid) + "/environ", env, 1u << 18)) return 0;
  size_t at = 0;
  while (at < env.size()) {
    size_t end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    if (env.compare(at, prefix.size(), prefix) == 0) {
      return std::strtoull(env.c_str() + at + prefix.size(), nullptr, 10);
    }
    at = end + 1;
  }
  return 0;
}

// One pass: kills processes carrying the mark of a finished run (of `only`, if not 0), and,
// when this process reaps orphans, reaps its zombie children that no runCommand waits for.
// Called with g_mutex held.
size_t sweep(uint64_t only) {
  const pid_t self = getpid();
  const bool reap = g_subreaper.load() || self == 1;
  const std::string prefix = runMarkPrefix();
  size_t n = 0;
  forEachProcess([&](const ProcStat& p) {
    if (p.pid == self || g_children.count(p.pid)) return;
    if (p.state == 'Z') {
      if (reap && p.ppid == self && waitpid(p.pid, nullptr, WNOHANG) == p.pid) ++n;
      return;
    }
    uint64_t run = runOf(p.pid, prefix);
    if (run == 0 || g_active_runs.count(run) || (only != 0 && run != only)) return;
    if (kill(p.pid, SIGKILL) == 0) ++n;
  });
  return n;
}

// Kills what a finished run left behind: a killed process's children carry the mark too
// and are found by the next pass, so passes repeat (a few) until one finds nothing.
void sweepRun(uint64_t run) {
  auto pause = std::chrono::milliseconds(1);
  for (int pass = 0; pass < 8; ++pass) {
    size_t n;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      n = sweep(run);
    }
    if (n == 0) return;
    std::this_thread::sleep_for(pause);  // let the killed exit, to be reaped by the next pass
    pause *= 2;
  }
}

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
};

}  // namespace

Result<CommandResult> runCommand(const std::vector<std::string>& argv,
                                 const CommandOptions& options) {
  if (argv.empty()) return makeError(ErrorCode::kInvalidArgument, "empty command");
  const std::string& program = argv.front();
  Pipe out, err;
  if (pipe2(out.fd, O_CLOEXEC) != 0 || pipe2(err.fd, O_CLOEXEC) != 0) {
    return makeError(ErrorCode::kInternal, program + ": pipe: " + std::strerror(errno));
  }

  // The environment: ours, minus unset_env, with env added or replaced.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    std::string name = kv.substr(0, kv.find('='));
    bool drop = options.env.count(name) > 0;
    for (const auto& u : options.unset_env) drop = drop || u == name;
    if (!drop) env_storage.push_back(kv);
  }
  for (const auto& [k, v] : options.env) env_storage.push_back(k + "=" + v);
  const uint64_t run = g_next_run++;
  env_storage.push_back(runMarkPrefix() + std::to_string(run));
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args(argv);
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  // Nothing else of the agent's reaches the program: not its listening socket, not its
  // connections to sources, not the store (a descriptor without FD_CLOEXEC would leak).
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  pid_t pid = -1;
  int rc;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    rc = posix_spawnp(&pid, program.c_str(), &actions, &attr, argp.data(), envp.data());
    if (rc == 0) {
      g_children.insert(pid);
      g_active_runs.insert(run);
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return makeError(ErrorCode::kUnavailable, program + ": cannot run: " + std::strerror(rc));
  }
  close(out.fd[1]);
  out.fd[1] = -1;
  close(err.fd[1]);
  err.fd[1] = -1;

  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false, overflow = false;
  pollfd fds[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      if (sinks[i]->size() + static_cast<size_t>(got) > options.max_output) {
        overflow = true;
        open_fds = 0;
        break;
      }
      sinks[i]->append(buf, static_cast<size_t>(got));
    }
  }
  if (timed_out || overflow) kill(-pid, SIGKILL);
  // The program may have closed its output and kept running: the deadline applies until it
  // has exited, not only while it writes. Its exit is seen without reaping it (WNOWAIT), so
  // that its process group id cannot be reused before what it left behind in the group (a
  // backgrounded child) is killed with it.
  auto sleep_for = std::chrono::milliseconds(1);
  for (;;) {
    siginfo_t info{};
    int w = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 || info.si_pid == pid) break;  // exited (or cannot be waited for)
    if (!timed_out && std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      kill(-pid, SIGKILL);
      continue;
    }
    std::this_thread::sleep_for(sleep_for);
    sleep_for = std::min(sleep_for * 2, std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_children.erase(pid);
    g_active_runs.erase(run);
  }
  sweepRun(run);
  if (timed_out) {
    return makeError(ErrorCode::kTimeout,
                     program + ": no result within " + formatDuration(options.timeout) + ", killed");
  }
  if (overflow) {
    return makeError(ErrorCode::kBadResponse, program + ": output larger than " +
                                                  std::to_string(options.max_output) +
                                                  " bytes, killed");
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

bool adoptOrphans() {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return false;
  g_subreaper = true;
  return true;
}

bool reapsOrphans() { return g_subreaper.load() || getpid() == 1; }

size_t reapOrphans() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return sweep(0);
}

}  // namespace opsm::collectors
