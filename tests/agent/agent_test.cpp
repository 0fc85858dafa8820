// The agent core without servers: declared systems, attestations, reloads.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

namespace fs = std::filesystem;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(collectors::registerAll(registry_).ok()); }

  Result<std::unique_ptr<Agent>> make(const std::string& attestations) {
    att_path_ = dir_.write("attestations.yaml", attestations);
    std::string config = "rules_dir: " + std::string(OPSM_SOURCE_DIR) + "/rules\n" +
                         "attestations_file: attestations.yaml\n"
                         "systems:\n  - {name: web, frontend: true}\n  - {name: api, frontend: false}\n"
                         "  - batch\n"
                         "collectors:\n  - type: prometheus\n    url: http://127.0.0.1:1\n";
    auto c = loadConfig(dir_.write("agent.yml", config), registry_);
    if (!c) return c.error();
    return Agent::create(std::move(*c));
  }

  // Rewrites the attestations file with a new modification time.
  void rewrite(const std::string& content) {
    dir_.write("attestations.yaml", content);
    fs::last_write_time(att_path_, fs::last_write_time(att_path_) + std::chrono::seconds(++bumps_));
  }

  static scorer::CriterionState state(const Agent& a, const std::string& system,
                                      const std::string& id) {
    for (const auto& s : a.scores()) {
      if (s.system != system) continue;
      for (const auto& i : s.items) {
        for (const auto& c : i.criteria) {
          if (c.criterion->id == id) return c.state;
        }
      }
    }
    ADD_FAILURE() << "no " << id << " for " << system;
    return scorer::CriterionState::kUnknown;
  }

  collectors::Registry registry_;
  testing::TempDir dir_;
  std::string att_path_;
  int bumps_ = 0;
};

std::string attestation(bool met) {
  return std::string(R"(attestations:
  - system: web
    criterion: 6.1.6/L2/1
    attested_by: Li Wei
    document: https://wiki.example.com/alerting
    date: )") + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: " +
         (met ? "true" : "false") + "\n";
}

using CS = scorer::CriterionState;

TEST_F(AgentTest, DeclaredSystemsAreScoredWithTheirAttributesAndAttestations) {
  auto a = make(attestation(true));
  ASSERT_TRUE(a.ok()) << a.error().message;
  Agent& agent = **a;
  agent.rescore();
  ASSERT_EQ(agent.scores().size(), 3u);
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kPass);
  EXPECT_EQ(state(agent, "api", "6.1.6/L2/1"), CS::kUnknown);
  // （仅前端系统考察）: not applicable to a declared back-end, unknown when undeclared.
  EXPECT_EQ(state(agent, "api", "6.9.2/L2/3"), CS::kNotApplicable);
  EXPECT_EQ(state(agent, "web", "6.9.2/L2/3"), CS::kUnknown);
  EXPECT_EQ(state(agent, "batch", "6.9.2/L2/3"), CS::kUnknown);
}

TEST_F(AgentTest, AChangedAttestationsFileIsReReadAndABrokenOneKeepsTheOldOnes) {
  auto a = make(attestation(true));
  ASSERT_TRUE(a.ok()) << a.error().message;
  Agent& agent = **a;
  agent.rescore();
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kPass);
  rewrite(attestation(false));
  agent.rescore();
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kFail);
  rewrite("attestations:\n  - system: web\n    criterion: nope\n");
  EXPECT_FALSE(agent.refreshAttestations().ok());
  agent.rescore();
  EXPECT_EQ(state(agent, "web", "6.1.6/L2/1"), CS::kFail) << "the last good file stays in force";
}

TEST_F(AgentTest, ABrokenAttestationsFileFailsStartUp) {
  auto a = make("attestations:\n  - system: web\n    criterion: 6.1.6/L2/1\n");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("attestations.yaml:2: field 'attested_by'"), std::string::npos)
      << a.error().message;
}

}  // namespace
}  // namespace opsm::agent
