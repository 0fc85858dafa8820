#include "agent/core/config.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(collectors::registerAll(registry_).ok()); }

  Result<AgentConfig> load(const std::string& yaml) {
    path_ = dir_.write("agent.yml", yaml);
    return loadConfig(path_, registry_);
  }

  void expectError(const std::string& yaml, int line, const std::string& text) {
    auto c = load(yaml);
    ASSERT_FALSE(c.ok()) << "expected: " << text;
    std::string where = path_ + ":" + std::to_string(line) + ":";
    EXPECT_EQ(c.error().message.rfind(where, 0), 0u) << c.error().message;
    EXPECT_NE(c.error().message.find(text), std::string::npos) << c.error().message;
  }

  collectors::Registry registry_;
  testing::TempDir dir_;
  std::string path_;
};

const std::string kCollector =
    "collectors:\n  - name: prom\n    type: prometheus\n    url: http://127.0.0.1:9090\n";

TEST_F(ConfigTest, DefaultsAndRelativeRulesDir) {
  auto c = load("rules_dir: rules\n" + kCollector);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->listen_address, "127.0.0.1:9817");
  EXPECT_EQ(c->rules_dir, (dir_.path() / "rules").string());
  ASSERT_EQ(c->collectors.size(), 1u);
  EXPECT_EQ(c->collectors[0].interval, std::chrono::seconds(60));
  EXPECT_EQ(c->collectors[0].timeout, std::chrono::seconds(10));
  EXPECT_EQ(c->collectors[0].ttl, std::chrono::minutes(5));
  EXPECT_EQ(c->scoring.level_pass_ratio, 1.0);
  EXPECT_EQ(c->max_concurrent_polls, 16);
}

TEST_F(ConfigTest, MaxConcurrentPolls) {
  auto c = load("rules_dir: r\nmax_concurrent_polls: 64\n" + kCollector);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->max_concurrent_polls, 64);
  for (const char* bad : {"0", "257", "2.5", "many"}) {
    expectError(std::string("rules_dir: r\nmax_concurrent_polls: ") + bad + "\n" + kCollector, 2,
                "field 'max_concurrent_polls'");
  }
}

TEST_F(ConfigTest, ShippedExampleLoads) {
  auto c = loadConfig(std::string(OPSM_SOURCE_DIR) + "/config/opsmaturity.example.yml", registry_);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->systems, (std::vector<std::string>{"payments", "billing"}));
}

TEST_F(ConfigTest, UnknownTopLevelKey) {
  expectError("rules_dir: r\nlisten: 1.2.3.4:1\n" + kCollector, 2, "field 'listen': unknown key");
}

TEST_F(ConfigTest, UnknownCollectorType) {
  expectError("rules_dir: r\ncollectors:\n  - type: nagios\n", 3,
              "'nagios' is not a collector type (known: alertmanager, borg, docs, exec, file, git, gitlab, grafana, haproxy, jira, loki, netbox, patroni, pgbackrest, postgresql, prometheus, redis, rest_cmdb, restic, zabbix)");
}

TEST_F(ConfigTest, DuplicateCollectorName) {
  expectError("rules_dir: r\n" + kCollector + "  - name: prom\n    type: prometheus\n    url: http://x\n",
              6, "two collectors are named 'prom'");
}

// The agent's own sources have reserved names: a collector named like one would mix its
// evidence with the config's or the attestations' (and be mistaken for them).
TEST_F(ConfigTest, ReservedSourceNamesAreRefused) {
  for (const std::string name : {"config", "attestations", "attestations-api"}) {
    expectError("rules_dir: r\ncollectors:\n  - name: " + name +
                    "\n    type: prometheus\n    url: http://x\n",
                3, "'" + name + "' is reserved for the agent's own evidence");
  }
}

TEST_F(ConfigTest, TimeoutLongerThanInterval) {
  expectError("rules_dir: r\n" + kCollector + "    interval: 10s\n    timeout: 30s\n", 7,
              "field 'timeout': must be positive and at most the interval (10s)");
}

TEST_F(ConfigTest, BadDuration) {
  expectError("rules_dir: r\n" + kCollector + "    interval: 10\n", 6,
              "field 'interval': invalid duration '10': missing unit");
}

TEST_F(ConfigTest, TtlShorterThanInterval) {
  expectError("rules_dir: r\n" + kCollector + "    interval: 1m\n    ttl: 30s\n", 7,
              "field 'ttl'");
}

TEST_F(ConfigTest, BadListenAddress) {
  expectError("rules_dir: r\nlisten_address: localhost\n" + kCollector, 2,
              "field 'listen_address'");
}

TEST_F(ConfigTest, MissingRulesDirAndCollectors) {
  expectError(kCollector, 1, "field 'rules_dir': is required");
  expectError("rules_dir: r\ncollectors: []\n", 2, "field 'collectors'");
}

TEST_F(ConfigTest, CollectorFieldErrorsComeFromItsFactory) {
  expectError("rules_dir: r\n" + kCollector + "    system_lable: x\n", 6,
              "field 'system_lable': unknown key for a prometheus collector");
}

TEST_F(ConfigTest, ScoringIsValidated) {
  expectError("rules_dir: r\nscoring:\n  level_pass_ratio: 0\n" + kCollector, 3,
              "field 'level_pass_ratio'");
}

TEST(ListenAddressTest, Parses) {
  auto a = parseListenAddress("127.0.0.1:9817");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 9817);
  auto v6 = parseListenAddress("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_FALSE(parseListenAddress("127.0.0.1:99999").ok());
  EXPECT_FALSE(parseListenAddress(":80").ok());
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

TEST(ConfigNames, SystemNamesFollowTheRuleAndSystemsFromNamesCollectors) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  const std::string prom =
      "collectors:\n  - {name: prom, type: prometheus, url: 'http://127.0.0.1:9090'}\n";
  for (const auto& [yaml, want] : std::vector<std::pair<std::string, std::string>>{
           {"rules_dir: r\nsystems: ['*']\n" + prom, "agent.yml:2: field 'systems': the system name '*'"},
           {"rules_dir: r\nsystems: [\"pay\\x01\"]\n" + prom, "contains a control character"},
           {"rules_dir: r\nsystems: [a]\ncollectors:\n  - {name: am, type: alertmanager, url: "
            "'http://127.0.0.1:9093', systems_from: [prom]}\n",
            "agent.yml:4: field 'systems_from': 'prom' is not another collector of this config"},
       }) {
    auto c = loadConfig(dir.write("agent.yml", yaml), registry);
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.error().message.find(want), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace opsm::agent
