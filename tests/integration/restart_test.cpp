// Durable state: the agent binary is killed with SIGKILL while it polls, and restarted with
// its source gone: the scores and evidence are back from the SQLite store, no regression is
// reported for the restart, and `opsmaturity evidence export` shows what was kept.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "collectors/common/http_client.h"
#include "collectors/common/subprocess.h"
#include "tests/support/process.h"
#include "tests/support/drill_pack.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::freePort();
    dir_.write("attestations.yaml",
               "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
               "    attested_by: Li Wei\n    document: https://wiki.example.com/crisis-org\n"
               "    date: " + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: true\n");
    dir_.write("facts.json",
               "{\"facts\": [{\"system\": \"payments\", \"key\": "
               "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}]}");
    config_ = dir_.write(
        "agent.yml",
        "listen_address: 127.0.0.1:" + std::to_string(port_) + "\nscore_interval: 1s\n"
        "rules_dir: " + testing::drillRulePack(dir_) + "\nstorage_path: state.db\n"
        "attestations_file: attestations.yaml\nsystems: [payments]\ncollectors:\n"
        "  - {name: drills, type: exec, interval: 1s, timeout: 1s, ttl: 1h,\n"
        "     command: [sh, -c, 'sleep 0.3; cat " + (dir_.path() / "facts.json").string() + "']}\n");
  }
  std::unique_ptr<testing::Process> start() {
    return std::make_unique<testing::Process>(
        std::vector<std::string>{OPSM_BINARY, "run", "--config", config_},
        (dir_.path() / ("agent-" + std::to_string(++runs_) + ".log")).string());
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
  // Let a few polls run, then kill it in the middle of one (each poll takes 0.3 s of 1 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(2150));
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
