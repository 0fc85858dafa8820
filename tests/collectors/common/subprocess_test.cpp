#include "collectors/common/subprocess.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace opsm::collectors {
namespace {

TEST(RunCommand, CapturesStdoutStderrAndExitCode) {
  auto r = runCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
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
