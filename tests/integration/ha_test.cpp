// The HA collectors against real servers started by the test on loopback: a PostgreSQL
// primary with a streaming standby, and a Redis primary with a replica and a Sentinel. Each
// test asserts the evidence, stops the replica, and asserts the evidence follows.
#include <gtest/gtest.h>

#include <map>

#include "collectors/collector.h"
#include "collectors/redis/redis_collector.h"
#include "common/yaml_util.h"
#include "tests/support/collect.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using Facts = std::map<std::string, scorer::Value>;

std::unique_ptr<collectors::Collector> build(const std::string& yaml) {
  auto c = testing::buildCollector(yaml);
  EXPECT_TRUE(c) << c.error().message;
  return c ? std::move(*c) : nullptr;
}

Result<Facts> collect(collectors::Collector& c) { return testing::pollSystem(c, "payments"); }

TEST(PostgresqlIntegration, ReplicationAndArchivingFollowTheCluster) {
  testing::TempDir dir;
  auto primary = testing::PostgresServer::primary(
      (dir.path() / "primary").string(),
      "archive_mode = on\narchive_command = 'false'\nsynchronous_standby_names = 'standby1'\n");
  ASSERT_TRUE(primary->ok()) << primary->log();
  auto standby = testing::PostgresServer::standby(*primary, (dir.path() / "standby").string());
  ASSERT_TRUE(standby->ok()) << standby->log();

  auto on_primary = build("name: pg\ntype: postgresql\nsystem: payments\nhost: 127.0.0.1\nport: " +
                          std::to_string(primary->port()) + "\nuser: postgres\n");
  auto on_standby = build("name: pg\ntype: postgresql\nsystem: payments\nhost: " +
                          standby->socketDir() + "\nport: " + std::to_string(standby->port()) +
                          "\nuser: postgres\n");
  ASSERT_TRUE(on_primary && on_standby);
  Result<Facts> facts = makeError(ErrorCode::kInternal, "not polled");
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*on_primary);
        // The standby streams first and becomes synchronous a moment later.
        return facts && facts->at("database.postgresql.streaming_replicas") == scorer::Value(1) &&
               facts->at("database.postgresql.sync_replicas") == scorer::Value(1);
      },
      std::chrono::seconds(30)))
      << (facts ? "no synchronous streaming standby" : facts.error().message);
  EXPECT_EQ(facts->at("database.postgresql.in_recovery"), scorer::Value(false));
  EXPECT_EQ(facts->at("database.postgresql.sync_replicas"), scorer::Value(1));
  EXPECT_EQ(facts->at("database.postgresql.archive_mode_on"), scorer::Value(true));
  EXPECT_EQ(facts->at("database.postgresql.synchronous_standby_names_set"), scorer::Value(true));
  EXPECT_EQ(facts->count("database.postgresql.wal_receiver_streaming"), 0u);

  auto sfacts = collect(*on_standby);
  ASSERT_TRUE(sfacts) << sfacts.error().message;
  EXPECT_EQ(sfacts->at("database.postgresql.in_recovery"), scorer::Value(true));
  EXPECT_EQ(sfacts->at("database.postgresql.wal_receiver_streaming"), scorer::Value(true));

  // archive_command is 'false': force a WAL switch and the archiver reports failure.
  primary->psql("SELECT pg_switch_wal()");
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*on_primary);
        return facts && facts->at("database.postgresql.archive_failing") == scorer::Value(true);
      },
      std::chrono::seconds(30)));

  standby->stop();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*on_primary);
        return facts && facts->at("database.postgresql.streaming_replicas") == scorer::Value(0);
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(facts->at("database.postgresql.sync_replicas"), scorer::Value(0));
}

TEST(PostgresqlIntegration, UnreachableServerAndBadConfigAreClearErrors) {
  auto c = build("name: pg\ntype: postgresql\nsystem: payments\nhost: 127.0.0.1\nport: " +
                 std::to_string(testing::freePort()) + "\nuser: postgres\n");
  ASSERT_TRUE(c);
  auto facts = collect(*c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("cannot connect"), std::string::npos)
      << facts.error().message;

  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto node = loadYamlString("type: postgresql\nsystem: p\nhost: h\nsslmode: sometimes\n", "a.yml");
  auto bad = registry.find("postgresql")->create({"c", "a.yml", *node});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("a.yml:4: field 'sslmode'"), std::string::npos)
      << bad.error().message;
}

class RedisIntegration : public ::testing::Test {
 protected:
  std::unique_ptr<testing::Process> redis(unsigned short port, const std::string& extra) {
    std::string conf = dir_.write("redis-" + std::to_string(port) + ".conf",
                                  "bind 127.0.0.1\nport " + std::to_string(port) +
                                      "\nsave \"\"\nappendonly no\ndir " + dir_.path().string() +
                                      "\n" + extra);
    auto p = std::make_unique<testing::Process>(
        std::vector<std::string>{"redis-server", conf},
        (dir_.path() / ("redis-" + std::to_string(port) + ".log")).string());
    return p;
  }
  // Runs redis-cli against 127.0.0.1:port; returns its output, trimmed.
  std::string cli(unsigned short port, std::vector<std::string> args) {
    std::vector<std::string> argv{"redis-cli", "--no-auth-warning", "-h", "127.0.0.1", "-p",
                                  std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string log = (dir_.path() / ("cli-" + std::to_string(++cli_runs_) + ".out")).string();
    testing::Process p(argv, log);
    p.wait();
    std::string out = p.log();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }
  testing::TempDir dir_;
  int cli_runs_ = 0;
};

TEST_F(RedisIntegration, ReplicationAndSentinelFollowTheServers) {
  ASSERT_FALSE(testing::findExecutable("redis-server").empty());
  unsigned short pport = testing::freePort(), rport = testing::freePort(),
                 sport = testing::freePort();
  std::string pass_file = dir_.write("redis-pass", "r3dis-secret\n");
  auto primary = redis(pport, "requirepass r3dis-secret\nmasterauth r3dis-secret\n");
  auto replica = redis(rport, "requirepass r3dis-secret\nmasterauth r3dis-secret\nreplicaof 127.0.0.1 " +
                                  std::to_string(pport) + "\n");
  std::string sconf = dir_.write("sentinel.conf", "bind 127.0.0.1\nport " + std::to_string(sport) +
                                                      "\nsentinel monitor pay 127.0.0.1 " +
                                                      std::to_string(pport) +
                                                      " 1\nsentinel auth-pass pay r3dis-secret\n");
  testing::Process sentinel({"redis-server", sconf, "--sentinel"},
                            (dir_.path() / "sentinel.log").string());

  auto c = build("name: r\ntype: redis\nsystem: payments\naddress: 127.0.0.1:" +
                 std::to_string(pport) + "\npassword_file: " + pass_file +
                 "\nsentinels: ['127.0.0.1:" + std::to_string(sport) + "']\nmaster_name: pay\n");
  ASSERT_TRUE(c);
  Result<Facts> facts = makeError(ErrorCode::kInternal, "not polled");
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*c);
        return facts && facts->at("cache.redis.replicas_online") == scorer::Value(1) &&
               facts->at("cache.redis.sentinels_monitoring") == scorer::Value(1);
      },
      std::chrono::seconds(30)))
      << (facts ? "replica or sentinel not seen" : facts.error().message) << primary->log();
  EXPECT_EQ(facts->at("cache.redis.role"), scorer::Value("master"));
  EXPECT_EQ(facts->at("cache.redis.connected_replicas"), scorer::Value(1));
  EXPECT_EQ(facts->at("cache.redis.sentinel_quorum_ok"), scorer::Value(true));
  EXPECT_EQ(facts->at("cache.redis.aof_enabled"), scorer::Value(false));
  EXPECT_EQ(facts->at("cache.redis.cluster_enabled"), scorer::Value(false));
  // Used as a queue so far (pushes and pops: no key lookups): nothing says it caches.
  cli(pport, {"-a", "r3dis-secret", "-r", "150", "RPUSH", "jobs", "j"});
  cli(pport, {"-a", "r3dis-secret", "-r", "150", "LPOP", "jobs"});
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->count("cache.redis.serves_hot_data"), 0u);
  // Reads of hot keys: 120 hits and 10 misses.
  ASSERT_EQ(cli(pport, {"-a", "r3dis-secret", "SET", "hot", "1"}), "OK");
  std::vector<std::string> gets{"-a", "r3dis-secret", "-r", "120", "GET", "hot"};
  cli(pport, gets);
  cli(pport, {"-a", "r3dis-secret", "-r", "10", "GET", "cold"});
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at("cache.redis.serves_hot_data"), scorer::Value(true))
      << facts->at("cache.redis.keyspace_hits").toString() << " hits, "
      << facts->at("cache.redis.keyspace_misses").toString() << " misses";
  // save "" and appendonly no: nothing persists, though rdb_last_bgsave_status says ok.
  EXPECT_EQ(facts->at("cache.redis.rdb_last_save_ok"), scorer::Value(true));
  EXPECT_EQ(facts->at("cache.redis.rdb_save_configured"), scorer::Value(false));
  EXPECT_EQ(facts->count("cache.redis.cluster_min_replicas_per_master"), 0u);
  ASSERT_EQ(cli(pport, {"-a", "r3dis-secret", "CONFIG", "SET", "save", "3600 1"}), "OK");
  facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at("cache.redis.rdb_save_configured"), scorer::Value(true));

  auto on_replica = build("name: r\ntype: redis\nsystem: payments\naddress: 127.0.0.1:" +
                          std::to_string(rport) + "\npassword_file: " + pass_file + "\n");
  auto rfacts = collect(*on_replica);
  ASSERT_TRUE(rfacts) << rfacts.error().message;
  EXPECT_EQ(rfacts->at("cache.redis.role"), scorer::Value("replica"));
  EXPECT_EQ(rfacts->at("cache.redis.master_link_up"), scorer::Value(true));

  replica->stop();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*c);
        return facts && facts->at("cache.redis.replicas_online") == scorer::Value(0);
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(facts->at("cache.redis.connected_replicas"), scorer::Value(0));
}

// Redis Cluster: a cluster whose master has no replica is a distributed cache, not a highly
// available one; once a replica joins, the collector sees one replica per master.
TEST_F(RedisIntegration, ClusterReplicasPerMasterFollowTheNodes) {
  // A cluster node also listens on its port + 10000 (the cluster bus): keep both in range.
  auto port = [] {
    unsigned short p = 0;
    while ((p = testing::freePort()) > 55000) {
    }
    return p;
  };
  unsigned short p1 = port(), p2 = port();
  while (p2 == p1) p2 = port();
  auto cluster_conf = [&](unsigned short port) {
    return "cluster-enabled yes\ncluster-config-file nodes-" + std::to_string(port) +
           ".conf\ncluster-node-timeout 5000\n";
  };
  auto n1 = redis(p1, cluster_conf(p1));
  auto n2 = redis(p2, cluster_conf(p2));
  ASSERT_TRUE(testing::waitFor([&] { return cli(p1, {"PING"}) == "PONG" && cli(p2, {"PING"}) == "PONG"; },
                               std::chrono::seconds(20)))
      << cli(p1, {"PING"}) << " / " << cli(p2, {"PING"});
  ASSERT_EQ(cli(p1, {"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}), "OK");
  auto c = build("name: r\ntype: redis\nsystem: payments\naddress: 127.0.0.1:" +
                 std::to_string(p1) + "\n");
  ASSERT_TRUE(c);
  auto facts = collect(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at("cache.redis.cluster_enabled"), scorer::Value(true));
  EXPECT_EQ(facts->at("cache.redis.cluster_masters"), scorer::Value(1));
  EXPECT_EQ(facts->at("cache.redis.cluster_min_replicas_per_master"), scorer::Value(0));

  std::string id1 = cli(p1, {"CLUSTER", "MYID"});
  ASSERT_EQ(cli(p2, {"CLUSTER", "MEET", "127.0.0.1", std::to_string(p1)}), "OK");
  ASSERT_TRUE(testing::waitFor(
      [&] { return cli(p2, {"CLUSTER", "NODES"}).find(id1) != std::string::npos; },
      std::chrono::seconds(20)));
  ASSERT_TRUE(testing::waitFor(
      [&] { return cli(p2, {"CLUSTER", "REPLICATE", id1}) == "OK"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*c);
        return facts && facts->at("cache.redis.cluster_min_replicas_per_master") == scorer::Value(1);
      },
      std::chrono::seconds(30)))
      << (facts ? cli(p1, {"CLUSTER", "NODES"}) : facts.error().message);
  EXPECT_EQ(facts->at("cache.redis.cluster_masters"), scorer::Value(1));
}

TEST(RedisClusterNodes, ReplicasPerMasterSkipFailedNodes) {
  auto per_master = collectors::redis::clusterReplicasPerMaster(
      "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n"
      "b1 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922\n"
      "c1 127.0.0.1:7002@17002 master,fail - 0 0 3 disconnected\n"
      "a2 127.0.0.1:7003@17003 slave a1 0 0 1 connected\n"
      "a3 127.0.0.1:7004@17004 slave,fail a1 0 0 1 disconnected\n"
      "garbage\n");
  EXPECT_EQ(per_master, (std::map<std::string, int>{{"a1", 1}, {"b1", 0}}));
}

TEST_F(RedisIntegration, WrongPasswordIsUnauthenticatedWithoutTheSecret) {
  unsigned short port = testing::freePort();
  auto server = redis(port, "requirepass right-one\n");
  std::string pass_file = dir_.write("pw", "wrong-redis-secret\n");
  auto c = build("name: r\ntype: redis\nsystem: payments\naddress: 127.0.0.1:" +
                 std::to_string(port) + "\npassword_file: " + pass_file + "\n");
  Result<Facts> facts = makeError(ErrorCode::kInternal, "not polled");
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = collect(*c);
        return !facts && facts.error().code != ErrorCode::kUnavailable;
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(facts.error().code, ErrorCode::kUnauthenticated) << facts.error().message;
  EXPECT_EQ(facts.error().message.find("wrong-redis-secret"), std::string::npos);
}

}  // namespace
}  // namespace opsm
