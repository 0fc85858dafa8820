// The patroni collector against a real Patroni cluster started by the test on loopback: etcd
// (the DCS), and two Patroni members each running PostgreSQL. The test waits for a leader
// and a streaming replica, switches synchronous mode on, pauses the cluster, stops the leader
// and checks that the evidence follows each change: members, replicas, synchronous standbys,
// whether failover is automatic now, and the failover in the history.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "collectors/collector.h"
#include "tests/support/collect.h"
#include "common/yaml_util.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using Facts = std::map<std::string, scorer::Value>;

// One poll, by key: every fact is of the cluster's system.
Result<Facts> collect(collectors::Collector& c) { return testing::pollSystem(c, "payments"); }

class PatroniIntegration : public ::testing::Test {
 protected:
  // One cluster for the whole suite: starting etcd and two PostgreSQL members takes seconds.
  static void SetUpTestSuite() {
    for (const char* tool : {"etcd", "patroni"}) {
      if (testing::findExecutable(tool).empty()) {
        setup_error_ = std::string(tool) + " is not installed (scripts/setup installs it)";
        return;
      }
    }
    dir_ = new testing::TempDir();
    const std::string root = dir_->path().string();
    testing::handOver(root);
    const unsigned short client = testing::freePort(), peer = testing::freePort();
    etcd_ = new testing::Process(
        {"etcd", "--name", "t", "--data-dir", root + "/etcd", "--listen-client-urls",
         "http://127.0.0.1:" + std::to_string(client), "--advertise-client-urls",
         "http://127.0.0.1:" + std::to_string(client), "--listen-peer-urls",
         "http://127.0.0.1:" + std::to_string(peer), "--initial-advertise-peer-urls",
         "http://127.0.0.1:" + std::to_string(peer), "--initial-cluster",
         "t=http://127.0.0.1:" + std::to_string(peer)},
        root + "/etcd.log");
    for (int n = 0; n < 2; ++n) {
      api_[n] = testing::freePort();
      const unsigned short pg = testing::freePort();
      const std::string home = root + "/node" + std::to_string(n + 1);
      testing::handOver(home);
      const std::string config = root + "/node" + std::to_string(n + 1) + ".yml";
      std::ofstream(config)
          << "scope: pay\nname: node" << n + 1 << "\n"
          << "restapi:\n  listen: 127.0.0.1:" << api_[n] << "\n  connect_address: 127.0.0.1:"
          << api_[n] << "\n"
          << "etcd3:\n  host: 127.0.0.1:" << client << "\n"
          << "bootstrap:\n  dcs:\n    ttl: 20\n    loop_wait: 1\n    retry_timeout: 5\n"
          << "    maximum_lag_on_failover: 1048576\n"
          << "    postgresql:\n      use_pg_rewind: false\n      parameters:\n"
          << "        fsync: 'off'\n        max_wal_senders: 5\n"
          << "  initdb:\n    - auth: trust\n"
          << "postgresql:\n  listen: 127.0.0.1:" << pg << "\n  connect_address: 127.0.0.1:" << pg
          << "\n  data_dir: " << home << "/data\n  bin_dir: " << testing::PostgresServer::binDir()
          << "\n  pgpass: " << home << "/pgpass\n"
          << "  pg_hba:\n    - local all all trust\n    - host all all 127.0.0.1/32 trust\n"
          << "    - host replication all 127.0.0.1/32 trust\n"
          << "  authentication:\n    superuser: {username: postgres}\n"
          << "    replication: {username: postgres}\n"
          << "  parameters:\n    unix_socket_directories: " << home << "\n";
      configs_[n] = config;
    }
    // The first member bootstraps the cluster and becomes the leader; the second then clones
    // it and follows.
    nodes_[0] = new testing::Process(testing::asPostgres({"patroni", configs_[0]}),
                                     root + "/node1.log");
    if (!waitForCluster([](const std::string& body) {
          return body.find("\"role\": \"leader\", \"state\": \"running\"") != std::string::npos;
        })) {
      setup_error_ = "no leader: " + nodes_[0]->log() + etcd_->log();
      return;
    }
    nodes_[1] = new testing::Process(testing::asPostgres({"patroni", configs_[1]}),
                                     root + "/node2.log");
  }

  static void TearDownTestSuite() {
    for (int n = 0; n < 2; ++n) {
      if (nodes_[n]) nodes_[n]->stop(15, std::chrono::seconds(30));
      delete nodes_[n];
      nodes_[n] = nullptr;
      stopPostgres(n);
    }
    delete etcd_;
    etcd_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << setup_error_;
  }

  // A PostgreSQL its Patroni left running (Patroni killed before it stopped it) is stopped.
  static void stopPostgres(int n) {
    if (!dir_) return;
    const std::string data = dir_->path().string() + "/node" + std::to_string(n + 1) + "/data";
    if (!std::filesystem::exists(data + "/postmaster.pid")) return;
    testing::runAs({testing::PostgresServer::binDir() + "/pg_ctl", "stop", "-m", "immediate", "-D",
                    data},
                   dir_->path().string() + "/pg_ctl.log");
  }

  static std::string url(int n) { return "http://127.0.0.1:" + std::to_string(api_[n]); }

  // `curl` a member's API (PATCH /config); returns the body.
  static std::string curl(const std::vector<std::string>& args) {
    const std::string out = dir_->path().string() + "/curl.out";
    std::vector<std::string> argv{"curl", "-s", "-o", out};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::Process p(argv, dir_->path().string() + "/curl.log");
    p.wait();
    std::ifstream in(out);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static bool waitForCluster(const std::function<bool(const std::string&)>& pred) {
    return testing::waitFor([&] { return pred(curl({url(0) + "/cluster"})); },
                            std::chrono::seconds(60));
  }

  std::unique_ptr<collectors::Collector> build() {
    auto c = testing::buildCollector("name: pat\ntype: patroni\nsystem: payments\nurls: [" +
                                     url(0) + ", " + url(1) + "]\n");
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }

  // Polls until `pred` holds of the facts (or 60 s pass); the facts of the last poll.
  Facts pollUntil(collectors::Collector& c, const std::function<bool(const Facts&)>& pred,
                  const char* what) {
    Result<Facts> facts = makeError(ErrorCode::kInternal, "not polled");
    bool ok = testing::waitFor(
        [&] {
          facts = collect(c);
          return facts && pred(*facts);
        },
        std::chrono::seconds(60));
    EXPECT_TRUE(ok) << what << ": " << (facts ? "" : facts.error().message) << "\n"
                    << nodes_[0]->log() << (nodes_[1] ? nodes_[1]->log() : "");
    return facts ? *facts : Facts{};
  }

  static inline std::string setup_error_;
  static inline testing::TempDir* dir_ = nullptr;
  static inline testing::Process* etcd_ = nullptr;
  static inline testing::Process* nodes_[2] = {nullptr, nullptr};
  static inline unsigned short api_[2] = {0, 0};
  static inline std::string configs_[2];
};

using V = scorer::Value;

TEST_F(PatroniIntegration, FailoverReadinessSyncModeAndHistoryFollowTheCluster) {
  auto c = build();
  ASSERT_TRUE(c);
  // A leader and a running replica within the lag limit: Patroni would fail over by itself.
  Facts f = pollUntil(
      *c, [](const Facts& f) { return f.at("database.patroni.replicas_running") == V(1); },
      "a running replica");
  EXPECT_EQ(f.at("database.patroni.members"), V(2));
  EXPECT_EQ(f.at("database.patroni.leader"), V("node1"));
  EXPECT_EQ(f.at("database.patroni.leader_running"), V(true));
  EXPECT_EQ(f.at("database.patroni.failover_candidates"), V(1));
  EXPECT_EQ(f.at("database.patroni.automatic_failover"), V(true));
  EXPECT_EQ(f.at("database.patroni.synchronous_mode"), V(false));
  EXPECT_EQ(f.at("database.patroni.sync_standbys"), V(0));
  EXPECT_EQ(f.at("database.patroni.leader_changes"), V(0));
  EXPECT_EQ(f.at("database.patroni.timeline"), V(1));
  EXPECT_EQ(f.count("database.patroni.last_leader_change_age_seconds"), 0u);

  // Synchronous mode on: the replica becomes a synchronous standby.
  curl({"-X", "PATCH", "-d", R"({"synchronous_mode": true})", url(0) + "/config"});
  f = pollUntil(
      *c, [](const Facts& f) { return f.at("database.patroni.sync_standbys") == V(1); },
      "a synchronous standby");
  EXPECT_EQ(f.at("database.patroni.synchronous_mode"), V(true));
  EXPECT_EQ(f.at("database.patroni.automatic_failover"), V(true));

  // Maintenance mode: Patroni will not fail over.
  curl({"-X", "PATCH", "-d", R"({"pause": true})", url(0) + "/config"});
  f = pollUntil(
      *c, [](const Facts& f) { return f.at("database.patroni.paused") == V(true); }, "paused");
  EXPECT_EQ(f.at("database.patroni.automatic_failover"), V(false));
  curl({"-X", "PATCH", "-d", R"({"pause": false})", url(0) + "/config"});
  f = pollUntil(
      *c, [](const Facts& f) { return f.at("database.patroni.automatic_failover") == V(true); },
      "resumed");

  // The leader stops: node2 takes over, the collector asks node2 (node1's API is gone), and
  // the history shows the failover. With no replica left, failover is not automatic.
  nodes_[0]->stop(15, std::chrono::seconds(30));
  stopPostgres(0);
  f = pollUntil(
      *c,
      [](const Facts& f) {
        return f.at("database.patroni.leader") == V("node2") &&
               f.at("database.patroni.leader_changes") == V(1);
      },
      "node2 leads after a failover");
  EXPECT_EQ(f.at("database.patroni.leader_running"), V(true));
  EXPECT_EQ(f.at("database.patroni.replicas_running"), V(0));
  EXPECT_EQ(f.at("database.patroni.automatic_failover"), V(false));
  EXPECT_EQ(f.at("database.patroni.timeline"), V(2));
  ASSERT_EQ(f.count("database.patroni.last_leader_change_age_seconds"), 1u);
  EXPECT_LT(f.at("database.patroni.last_leader_change_age_seconds").asNumber(), 120);
}

TEST(PatroniCollector, NoMemberAnsweringIsAFailedPollNamingThem) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::freePort());
  auto c = testing::buildCollector("name: pat\ntype: patroni\nsystem: payments\nurls: [" + dead + "]\n");
  ASSERT_TRUE(c);
  auto facts = collect(**c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("Patroni: no member answered"), std::string::npos)
      << facts.error().message;
  EXPECT_NE(facts.error().message.find(dead), std::string::npos) << facts.error().message;
}

TEST(PatroniConfig, UrlsAreRequiredAndChecked) {
  auto make = [](const std::string& yaml) { return testing::buildCollector(yaml); };
  auto no_urls = make("type: patroni\nsystem: payments\n");
  ASSERT_FALSE(no_urls);
  EXPECT_NE(no_urls.error().message.find("urls"), std::string::npos);
  auto bad = make("type: patroni\nsystem: payments\nurls: [10.0.0.1:8008]\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("agent.yml:3"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(make("type: patroni\nurls: [http://x:8008]\n"));
  EXPECT_TRUE(make("type: patroni\nsystem: payments\nurls: [http://x:8008]\n"));
}

}  // namespace
}  // namespace opsm
