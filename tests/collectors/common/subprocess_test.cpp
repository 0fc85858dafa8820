#include "collectors/common/subprocess.h"

#include <fcntl.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace opsm::collectors {
namespace {

TEST(RunCommand, CapturesStdoutStderrAndExitCode) {
  auto r = runCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

// A program the agent runs gets stdin, stdout and stderr, and nothing else of the agent's:
// here a descriptor deliberately left inheritable (no FD_CLOEXEC) does not reach it.
TEST(RunCommand, TheProgramInheritsNoOtherDescriptor) {
  int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC
  ASSERT_GE(leaky, 3);
  auto r = runCommand({"sh", "-c", "ls /proc/$$/fd"}, {});
  ::close(leaky);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "0\n1\n2\n");
}

TEST(RunCommand, NoShellArgumentsArePassedVerbatim) {
  auto r = runCommand({"printf", "%s|", "a b", "$HOME", "; rm -rf /"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "a b|$HOME|; rm -rf /|");
}

TEST(RunCommand, MissingProgramIsAnErrorNamingIt) {
  auto r = runCommand({"opsm-no-such-program", "--secret=hunter2"}, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("opsm-no-such-program"), std::string::npos);
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
}

TEST(RunCommand, TimeoutKillsTheChildAndItsChildren) {
  CommandOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = runCommand({"sh", "-c", "sleep 30 & sleep 30"}, opts);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_LT(took, std::chrono::seconds(5));
}

// A program that closes its output and keeps running: the timeout still applies (it used to
// wait for it forever, the poll hung and SIGTERM could not stop the daemon).
TEST(RunCommand, TimeoutAppliesAfterTheProgramClosesItsOutput) {
  CommandOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = runCommand({"sh", "-c", "exec >&- 2>&-; exec sleep 100000"}, opts);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
}

// A child the program backgrounds and leaves behind in its process group dies with it: no
// orphan per poll.
TEST(RunCommand, ChildrenLeftBehindAreKilledWithTheGroup) {
  testing::TempDir dir;
  const std::string pidfile = (dir.path() / "child.pid").string();
  auto r = runCommand({"sh", "-c", "sleep 100000 >/dev/null 2>&1 & echo $! > " + pidfile + "; echo ok"},
                      CommandOptions{});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "ok\n");
  std::ifstream in(pidfile);
  pid_t child = 0;
  in >> child;
  ASSERT_GT(child, 0);
  // Killed; once its parent (the shell) is gone it is reparented and reaped by init.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string text;
    std::getline(stat, text);
    gone = !stat || text.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "child " << child << " still running";
}

// Whether `pid` is gone: no such process, or a zombie (killed, waiting to be reaped).
bool goneOrZombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  return !stat || text.find(") Z ") != std::string::npos;
}

pid_t readPid(const std::string& path) {
  pid_t pid = 0;
  for (int i = 0; i < 100 && pid == 0; ++i) {
    std::ifstream in(path);
    in >> pid;
    if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pid;
}

TEST(RunCommand, AChildThatLeftTheGroupWithSetsidIsKilledToo) {
  testing::TempDir dir;
  const std::string pidfile = (dir.path() / "child.pid").string();
  // setsid: a new session and process group, out of reach of the group kill.
  auto r = runCommand({"sh", "-c",
                       "setsid sh -c 'echo $$ > " + pidfile +
                           "; exec sleep 100000' >/dev/null 2>&1 & sleep 0.2; echo ok"},
                      CommandOptions{});
  ASSERT_TRUE(r) << r.error().message;
  pid_t child = readPid(pidfile);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(goneOrZombie(child)) << "child " << child << " left running";
  if (!goneOrZombie(child)) kill(child, SIGKILL);
}

TEST(RunCommand, ADoubleForkedChildOfAClosedProgramIsKilledAfterTheTimeout) {
  testing::TempDir dir;
  const std::string pidfile = (dir.path() / "child.pid").string();
  CommandOptions opts;
  opts.timeout = std::chrono::seconds(2);
  // Closes its output, double-forks into a new session, and hangs once the grandchild has
  // written its pid (on a loaded machine the timeout could otherwise come first).
  auto r = runCommand({"sh", "-c",
                       "exec >&- 2>&-; (setsid sh -c 'echo $$ > " + pidfile +
                           "; exec sleep 100000' &); while [ ! -s " + pidfile +
                           " ]; do sleep 0.01; done; exec sleep 100000"},
                      opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().message;
  pid_t child = readPid(pidfile);
  ASSERT_GT(child, 0);
  EXPECT_TRUE(goneOrZombie(child)) << "child " << child << " left running";
  if (!goneOrZombie(child)) kill(child, SIGKILL);
}

// Zombie children of this process that no one has reaped.
int zombieChildren() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(e.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 4 > text.size()) continue;
    if (text[close + 2] == 'Z' && std::atoi(text.c_str() + close + 4) == getpid()) ++n;
  }
  return n;
}

TEST(RunCommand, AsSubreaperOrphansThatEscapedEverythingAreReaped) {
  // In a child process: becoming a subreaper changes the whole process, not only this test.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!adoptOrphans() || !reapsOrphans()) _exit(10);
    // Leaves the group, the session and the environment mark behind; exits on its own.
    auto r = runCommand({"sh", "-c", "env -i setsid sleep 0.5 >/dev/null 2>&1 & sleep 0.1; echo ok"},
                        CommandOptions{});
    if (!r || r->out != "ok\n") _exit(11);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    if (zombieChildren() != 1) _exit(12);  // reparented here, exited, not yet reaped
    if (reapOrphans() != 1) _exit(13);
    if (zombieChildren() != 0) _exit(14);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "10: not a subreaper, 11: run failed, 12: orphan not reparented or not exited, "
         "13: reapOrphans did not reap it, 14: a zombie remains";
}

TEST(RunCommand, OutputCapKillsTheChild) {
  CommandOptions opts;
  opts.max_output = 1000;
  auto r = runCommand({"yes"}, opts);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("larger than 1000 bytes"), std::string::npos);
}

TEST(RunCommand, EnvironmentIsAddedAndUnset) {
  setenv("OPSM_TEST_DROP", "x", 1);
  CommandOptions opts;
  opts.env["OPSM_TEST_ADD"] = "added";
  opts.unset_env = {"OPSM_TEST_DROP"};
  auto r = runCommand({"sh", "-c", "echo \"$OPSM_TEST_ADD-${OPSM_TEST_DROP:-unset}\""}, opts);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "added-unset\n");
}

TEST(RunCommand, StdinIsEmpty) {
  auto r = runCommand({"cat"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "");
  EXPECT_EQ(r->exit_code, 0);
}

}  // namespace
}  // namespace opsm::collectors
