// Sharding: agents with --shard i/n split the systems between them, each storing and scoring
// only its own, and the union is every system exactly once.
#include <gtest/gtest.h>

#include <set>

#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

TEST(Shard, ParseAndHash) {
  auto s = parseShard("1/3");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 1u);
  EXPECT_EQ(s->count, 3u);
  for (const char* bad : {"3/3", "1/0", "a/b", "1/3x", "-1/3", "1", ""}) {
    EXPECT_FALSE(parseShard(bad)) << bad;
  }
  // FNV-1a 64 of "payments" is 16247515657873382182: the hash is part of the deployment
  // contract (agents of different versions must agree), so it is pinned here.
  EXPECT_EQ(shardOf("payments", 3), 1u);
  EXPECT_EQ(shardOf("payments", 2), 0u);
}

TEST(Shard, AgentsSplitTheSystemsBetweenThem) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  std::string facts = "facts:\n";
  std::set<std::string> all;
  for (int i = 0; i < 20; ++i) {
    std::string system = "system-" + std::to_string(i);
    all.insert(system);
    facts += "  - {system: " + system + ", key: file.demo.x, value: 1}\n";
  }
  dir.write("facts.yaml", facts);
  std::set<std::string> seen;
  for (unsigned i = 0; i < 3; ++i) {
    auto config = loadConfig(
        dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                   "/rules\nshard: " + std::to_string(i) +
                                   "/3\nsystems: [system-0, declared-only]\n"
                                   "collectors: [{type: file, path: facts.yaml}]\n"),
        registry);
    ASSERT_TRUE(config) << config.error().message;
    auto a = Agent::create(std::move(*config));
    ASSERT_TRUE(a) << a.error().message;
    ASSERT_TRUE((*a)->poll(0).ok);
    (*a)->rescore();
    for (const auto& s : (*a)->knownSystems()) {
      EXPECT_EQ(shardOf(s, 3), i) << s;
      EXPECT_TRUE(seen.insert(s).second) << s << " scored twice";
    }
    // Evidence of other shards' systems is not even kept.
    for (const auto& s : (*a)->evidence().systems()) EXPECT_EQ(shardOf(s, 3), i) << s;
    EXPECT_EQ((*a)->scores().size(), (*a)->knownSystems().size());
    EXPECT_NE(renderMetrics(**a).find("opsmaturity_shard_info{count=\"3\",index=\"" +
                                       std::to_string(i) + "\"} 1"),
              std::string::npos);
  }
  all.insert("declared-only");
  EXPECT_EQ(seen, all);
}

TEST(Shard, BadShardInTheConfigNamesTheLine) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  auto c = loadConfig(dir.write("agent.yml", "rules_dir: r\nshard: 3/3\n"
                                             "collectors: [{type: file, path: f}]\n"),
                      registry);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yml:2: field 'shard'"), std::string::npos)
      << c.error().message;
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

TEST(MetricsConfig, CriteriaStatesCanBeLeftOut) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  for (bool on : {true, false}) {
    auto config = loadConfig(dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                        "/rules\nexport_criteria_states: " +
                                                        (on ? "true" : "false") +
                                                        "\nsystems: [payments]\n"
                                                        "collectors: [{type: file, path: f.yaml}]\n"),
                             registry);
    ASSERT_TRUE(config) << config.error().message;
    auto a = Agent::create(std::move(*config));
    ASSERT_TRUE(a);
    (*a)->rescore();
    std::string text = renderMetrics(**a);
    EXPECT_EQ(text.find("opsmaturity_item_criteria{") != std::string::npos, on);
    EXPECT_NE(text.find("opsmaturity_item_level{domain=\"6.1\",item=\"6.1.1\",system=\"payments\"} 0"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace opsm::agent
