// Durable state: the agent binary is killed with SIGKILL while a poll is in flight, and
// restarted with its source gone: the scores and evidence are back from the SQLite store, no
// regression is reported for the restart, and `opsmaturity evidence export` shows what was
// kept. Restarted after the source's answer changed while it was down, the agent reports the
// regression against the level it had before (which a restart without the stored baseline
// would silently take as a new start).
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "collectors/common/http_client.h"
#include "collectors/common/subprocess.h"
#include "tests/support/process.h"
#include "tests/support/drill_pack.h"
#include "tests/support/hostile_yaml.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("attestations.yaml",
               "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
               "    attested_by: Li Wei\n    document: https://wiki.example.com/crisis-org\n"
               "    date: " + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: true\n");
    drill(3600);
    config_ = dir_.write(
        "agent.yml",
        "listen_address: 127.0.0.1:0\nscore_interval: 1s\n"
        "rules_dir: " + testing::drillRulePack(dir_) + "\nstorage_path: state.db\n"
        "attestations_file: attestations.yaml\nsystems: [payments]\ncollectors:\n"
        "  - {name: drills, type: exec, interval: 1s, timeout: 1s, ttl: 1h,\n"
        "     command: [sh, -c, 'touch " + marker() + "; sleep 0.5; cat " +
            (dir_.path() / "facts.json").string() + "; rm -f " + marker() + "']}\n");
  }
  // Exists while a poll of the plugin is in flight.
  std::string marker() const { return (dir_.path() / "in-poll").string(); }
  void drill(double age_seconds) {
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": " +
                                 std::to_string(age_seconds) + "}]}");
  }
  // Starts the agent binary; it binds a port of its own (port 0) and says which in its log.
  std::unique_ptr<testing::Process> start() {
    auto p = std::make_unique<testing::Process>(
        std::vector<std::string>{OPSM_BINARY, "run", "--config", config_},
        (dir_.path() / ("agent-" + std::to_string(++runs_) + ".log")).string());
    port_ = testing::agentPort(*p, std::chrono::seconds(30));
    EXPECT_NE(port_, 0) << p->log();
    return p;
  }
  std::string metrics() {
    auto r = http_.get("http://127.0.0.1:" + std::to_string(port_) + "/metrics",
                       std::chrono::seconds(2));
    return r ? r->body : "";
  }

  testing::TempDir dir_;
  unsigned short port_ = 0;
  std::string config_;
  int runs_ = 0;
  collectors::HttpClient http_{collectors::HttpOptions{}};
};

TEST_F(RestartTest, Sigkill_DuringAPollLosesNothingAndReportsNoRegression) {
  const std::string level = "opsmaturity_item_level{domain=\"6.7\",item=\"6.7.4\",system=\"payments\"} 1";
  auto agent = start();
  ASSERT_TRUE(testing::waitFor([&] { return metrics().find(level) != std::string::npos; },
                               std::chrono::seconds(30)))
      << agent->log();
  // Kill it in the middle of a poll: once the plugin of the next one has started.
  std::filesystem::remove(marker());
  ASSERT_TRUE(testing::waitFor([&] { return std::filesystem::exists(marker()); },
                               std::chrono::seconds(30)));
  agent->stop(SIGKILL);
  agent.reset();

  // The source is gone: whatever the new agent shows comes from the store.
  std::filesystem::remove(dir_.path() / "facts.json");
  agent = start();
  // Once its first poll has failed and it has scored, the level is the one stored.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        std::string m = metrics();
        return m.find("opsmaturity_collector_up{collector=\"drills\"} 0") != std::string::npos &&
               m.find("opsmaturity_item_level{") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << agent->log();
  std::string m = metrics();
  EXPECT_NE(m.find(level), std::string::npos) << m;
  EXPECT_NE(m.find("opsmaturity_item_regressions_total{item=\"6.7.4\",system=\"payments\"} 0"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("opsmaturity_evidence_stale_ratio{system=\"payments\"} 1"), std::string::npos);
  EXPECT_NE(agent->log().find("restored 1 pieces of evidence"), std::string::npos) << agent->log();
  agent->stop();

  collectors::CommandOptions opts;
  auto out = collectors::runCommand(
      {OPSM_BINARY, "evidence", "export", "--config", config_, "--system", "payments"}, opts);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exit_code, 0) << out->err;
  EXPECT_NE(out->out.find("\"key\":\"plugin.drill.last_report_age_seconds\",\"value\":3600"),
            std::string::npos)
      << out->out;
  EXPECT_NE(out->out.find("\"collector\":\"drills\""), std::string::npos);
  EXPECT_NE(out->out.find("\"item\":\"6.7.4\",\"level\":1"), std::string::npos) << out->out;
  EXPECT_NE(out->out.find("\"regressions\":[]"), std::string::npos);
}

TEST_F(RestartTest, ADropWhileTheAgentWasDownIsARegressionAfterTheRestart) {
  const std::string level1 =
      "opsmaturity_item_level{domain=\"6.7\",item=\"6.7.4\",system=\"payments\"} 1";
  auto agent = start();
  ASSERT_TRUE(testing::waitFor([&] { return metrics().find(level1) != std::string::npos; },
                               std::chrono::seconds(30)))
      << agent->log();
  agent->stop();
  agent.reset();
  // While it is down, the last drill report becomes two years old: 6.7.4/L1/1 fails.
  drill(2 * 366 * 86400.0);
  agent = start();
  // Two polls confirm it (regression_hysteresis 2): a regression from the stored level 1.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return metrics().find(
                   "opsmaturity_item_regressions_total{item=\"6.7.4\",system=\"payments\"} 1") !=
               std::string::npos;
      },
      std::chrono::seconds(30)))
      << metrics() << agent->log();
  EXPECT_NE(agent->log().find("6.7.4: regression from level 1 to 0: 6.7.4/L1/1"),
            std::string::npos)
      << agent->log();
  agent->stop();
}

TEST_F(RestartTest, AnUnreadableStoreFailsStartUpClearly) {
  dir_.write("state.db", "this is not a database, it is a text file long enough to be read");
  collectors::CommandOptions opts;
  opts.timeout = std::chrono::seconds(20);
  auto out = collectors::runCommand({OPSM_BINARY, "once", "--config", config_}, opts);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->exit_code, 2);
  EXPECT_NE(out->err.find("state.db"), std::string::npos) << out->err;
}

}  // namespace
}  // namespace opsm

namespace opsm {
namespace {

// A plugin printing a 700-byte "billion laughs" used to hang its poll for good: the agent
// never became ready and SIGTERM no longer stopped it. Now the poll fails at once naming the
// limit, the agent is ready with that collector down, and SIGTERM stops it.
TEST_F(RestartTest, AnAliasBombFromAPluginFailsItsPollAndSigtermStillStopsTheAgent) {
  const std::string bomb_file = dir_.write("bomb.yaml", testing::billionLaughs());
  config_ = dir_.write(
      "bomb-agent.yml",
      "listen_address: 127.0.0.1:0\nrules_dir: " + testing::drillRulePack(dir_) +
          "\nstop_timeout: 5s\nsystems: [payments]\ncollectors:\n"
          "  - {name: drills, type: exec, command: [cat, " + (dir_.path() / "facts.json").string() +
          "]}\n  - {name: bomb, type: exec, interval: 1s, timeout: 1s, command: [cat, " +
          bomb_file + "]}\n");
  auto agent = start();
  collectors::HttpClient http{collectors::HttpOptions{}};
  ASSERT_TRUE(testing::waitFor(
      [&] {
        auto r = http.get("http://127.0.0.1:" + std::to_string(port_) + "/-/ready",
                          std::chrono::seconds(2));
        return r && r->status == 200;
      },
      std::chrono::seconds(30)))
      << agent->log();
  EXPECT_NE(metrics().find("opsmaturity_collector_up{collector=\"bomb\"} 0"), std::string::npos);
  EXPECT_NE(agent->log().find("once its aliases are expanded"), std::string::npos)
      << agent->log();
  ASSERT_EQ(::kill(agent->pid(), SIGTERM), 0);
  EXPECT_TRUE(testing::waitFor([&] { return !agent->running(); }, std::chrono::seconds(20)))
      << agent->log();
}

}  // namespace
}  // namespace opsm
