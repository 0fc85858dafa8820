// The NetBox collector against a fixture server that speaks the NetBox REST API as documented
// (NetBox cannot be installed from Debian): `Authorization: Token <key>`, limit/offset
// pagination with {count, next, previous, results} and absolute `next` links, 403
// {"detail": "Invalid token"} for a bad token; plus every fault of tests/support/faults.h.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <vector>

#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "tests/support/collect.h"
#include "tests/support/faults.h"
#include "tests/support/fixture_server.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using scorer::Value;
const std::string kToken = "0123456789abcdef-netbox-token";

class NetboxFixture {
 public:
  NetboxFixture()
      : server_([this](const agent::HttpRequest& r) {
          return faults.apply([&] { return serve(r); }, R"({"detail": "Invalid token."})");
        }) {
    lists_["/api/tenancy/tenants/"] = {
        R"({"id": 1, "name": "Payments", "slug": "payments", "custom_fields": {"is_frontend": false, "has_cache": true, "has_db": true, "runtime": "container"}})",
        R"({"id": 2, "name": "Ledger", "slug": "ledger", "custom_fields": {"is_frontend": null, "has_cache": false, "has_db": true, "runtime": "mainframe"}})",
        R"({"id": 3, "name": "CRM", "slug": "crm"})"};
    const std::string pay = R"("tenant": {"id": 1, "name": "Payments", "slug": "payments"})";
    const std::string led = R"("tenant": {"id": 2, "name": "Ledger", "slug": "ledger"})";
    lists_["/api/dcim/devices/"] = {
        R"({"id": 1, "name": "pay-db-1", )" + pay +
            R"(, "role": {"id": 1, "slug": "db"}, "platform": {"id": 1, "slug": "linux"}, "primary_ip": {"id": 5, "address": "10.0.0.1/24"}, "custom_fields": {}})",
        R"({"id": 2, "name": "pay-app-1", )" + pay +
            R"(, "role": {"id": 2, "slug": "app"}, "platform": null, "primary_ip": {"id": 6, "address": "10.0.0.2/24"}, "custom_fields": {}})",
        R"({"id": 3, "name": "led-db-1", )" + led +
            R"(, "role": {"id": 1, "slug": "db"}, "platform": {"id": 1, "slug": "linux"}, "primary_ip": {"id": 7, "address": "10.0.1.1/24"}, "custom_fields": {}})",
        R"({"id": 4, "name": "core-sw-1", "tenant": null, "role": {"id": 3, "slug": "switch"}, "platform": null, "primary_ip": null, "custom_fields": {}})"};
    lists_["/api/virtualization/virtual-machines/"] = {
        R"({"id": 10, "name": "pay-web-1", )" + pay +
            R"(, "role": {"id": 4, "slug": "web"}, "platform": {"id": 1, "slug": "linux"}, "primary_ip": {"id": 8, "address": "10.0.0.10/24"}, "cluster": {"id": 1, "name": "k8s"}})",
        R"({"id": 11, "name": "led-batch-1", )" + led +
            R"(, "role": null, "platform": null, "primary_ip": null, "cluster": null})"};
    lists_["/api/ipam/services/"] = {
        R"({"id": 100, "name": "postgres", "device": {"id": 1, "name": "pay-db-1"}, "virtual_machine": null, "ports": [5432]})",
        R"({"id": 101, "name": "batch", "device": null, "virtual_machine": {"id": 11, "name": "led-batch-1"}, "ports": [8080]})"};
    lists_["/api/dcim/cables/"] = {
        R"({"id": 200, "a_terminations": [{"object_type": "dcim.interface", "object_id": 1000, "object": {"id": 1000, "device": {"id": 1, "name": "pay-db-1"}, "name": "eth0"}}], "b_terminations": [{"object_type": "dcim.interface", "object_id": 1001, "object": {"id": 1001, "device": {"id": 4, "name": "core-sw-1"}, "name": "ge-0/0/1"}}], "status": "connected"})"};
  }

  std::string url() const { return server_.url(); }
  void set(const std::string& path, std::vector<std::string> objects) {
    std::lock_guard lock(mu_);
    lists_[path] = std::move(objects);
  }
  std::vector<agent::HttpRequest> requests() const { return server_.requests(); }

  testing::FaultInjector faults;

 private:
  agent::HttpReply serve(const agent::HttpRequest& r) {
    auto auth = r.headers.find("authorization");
    if (auth == r.headers.end() || auth->second != "Token " + kToken) {
      return {403, "application/json", R"({"detail": "Invalid token."})"};
    }
    std::lock_guard lock(mu_);
    auto it = lists_.find(r.path());
    if (it == lists_.end()) return {404, "application/json", R"({"detail": "Not found."})"};
    size_t limit = 50, offset = 0;
    std::string query = r.target.substr(r.path().size());
    auto param = [&](const std::string& name, size_t* out) {
      auto p = query.find(name + "=");
      if (p != std::string::npos) *out = std::stoul(query.substr(p + name.size() + 1));
    };
    param("limit", &limit);
    param("offset", &offset);
    const auto& all = it->second;
    std::string results;
    for (size_t i = offset; i < std::min(all.size(), offset + limit); ++i) {
      results += (results.empty() ? "" : ", ") + all[i];
    }
    auto link = [&](size_t off) {
      return "\"" + server_.url() + r.path() + "?limit=" + std::to_string(limit) +
             "&offset=" + std::to_string(off) + "\"";
    };
    std::string next = offset + limit < all.size() ? link(offset + limit) : "null";
    std::string prev = offset > 0 ? link(offset >= limit ? offset - limit : 0) : "null";
    return {200, "application/json",
            "{\"count\": " + std::to_string(all.size()) + ", \"next\": " + next +
                ", \"previous\": " + prev + ", \"results\": [" + results + "]}"};
  }

  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> lists_;
  testing::FixtureServer server_;
};

class NetboxCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("OPSM_TEST_NETBOX_TOKEN", kToken.c_str(), 1);
    auto c = testing::buildCollector("name: cmdb\ntype: netbox\nurl: " + fixture_.url() +
                                     "\ntoken_env: OPSM_TEST_NETBOX_TOKEN\npage_size: 2\n");
    ASSERT_TRUE(c) << c.error().message;
    collector_ = std::move(*c);
  }
  NetboxFixture fixture_;
  std::unique_ptr<collectors::Collector> collector_;
};

TEST_F(NetboxCollectorTest, TenantsAreSystemsAndCisAreCountedAcrossPages) {
  auto facts = testing::pollOnce(*collector_);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "cmdb.netbox.devices"}), Value(2));
  EXPECT_EQ(facts->at({"payments", "cmdb.netbox.virtual_machines"}), Value(1));
  EXPECT_EQ(facts->at({"payments", "cmdb.netbox.cis"}), Value(3));
  EXPECT_EQ(facts->at({"payments", "cmdb.netbox.services"}), Value(1));
  EXPECT_DOUBLE_EQ(facts->at({"payments", "cmdb.netbox.ci_complete_ratio"}).asNumber(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(facts->at({"payments", "cmdb.netbox.ci_related_ratio"}).asNumber(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(facts->at({"ledger", "cmdb.netbox.ci_complete_ratio"}).asNumber(), 0.5);
  EXPECT_DOUBLE_EQ(facts->at({"ledger", "cmdb.netbox.ci_related_ratio"}).asNumber(), 0.5);
  // A tenant without CIs is still a system, with nothing to rate.
  EXPECT_EQ(facts->at({"crm", "cmdb.netbox.cis"}), Value(0));
  EXPECT_EQ(facts->count({"crm", "cmdb.netbox.ci_complete_ratio"}), 0u);

  // Several pages were read (page_size 2), every one with the token.
  int device_pages = 0;
  for (const auto& r : fixture_.requests()) {
    if (r.path() == "/api/dcim/devices/") ++device_pages;
    EXPECT_EQ(r.headers.at("authorization"), "Token " + kToken);
  }
  EXPECT_EQ(device_pages, 2);

  // The CMDB changes: the service and cable of pay-db-1 go, so it has no relation left.
  fixture_.set("/api/ipam/services/", {});
  fixture_.set("/api/dcim/cables/", {});
  facts = testing::pollOnce(*collector_);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_DOUBLE_EQ(facts->at({"payments", "cmdb.netbox.ci_related_ratio"}).asNumber(), 1.0 / 3);
  EXPECT_EQ(facts->at({"payments", "cmdb.netbox.services"}), Value(0));
}

// One CI in the CMDB is not central management: with the Prometheus that monitors the
// systems, the collector reports the share of their monitored hosts the CMDB holds. The
// Prometheus is a fixture answering /api/v1/targets as Prometheus does; it must never see the
// NetBox token.
TEST_F(NetboxCollectorTest, TheShareOfMonitoredHostsTheCmdbHolds) {
  testing::FixtureServer prometheus([](const agent::HttpRequest& r) -> agent::HttpReply {
    if (r.path() != "/api/v1/targets") return {404, "text/plain", "404 page not found\n"};
    auto target = [](const std::string& job, const std::string& instance, const std::string& system) {
      return R"({"labels": {"job": ")" + job + R"(", "instance": ")" + instance +
             R"(", "system": ")" + system + R"("}, "health": "up", "scrapeUrl": "http://)" +
             instance + R"(/metrics"})";
    };
    return {200, "application/json",
            R"({"status": "success", "data": {"activeTargets": [)" +
                target("node", "10.0.0.1:9100", "payments") + "," +      // pay-db-1 by IP
                target("app", "pay-app-1.example.com:8080", "payments") + "," +  // by name
                target("node", "10.0.9.9:9100", "payments") + "," +      // not in the CMDB
                target("probe", "https://pay.example.com", "payments") + "," +  // a URL: no host
                target("node", "10.0.1.1:9100", "ledger") + "," +
                target("node", "10.0.0.2:9100", "ledger") +  // payments' CI, not ledger's
                R"(]}})"};
  });
  auto c = testing::buildCollector("name: cmdb\ntype: netbox\nurl: " + fixture_.url() +
                                   "\ntoken_env: OPSM_TEST_NETBOX_TOKEN\nprometheus_url: " +
                                   prometheus.url() + "\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "cmdb.netbox.monitored_hosts"}), Value(3));
  EXPECT_DOUBLE_EQ(facts->at({"payments", "cmdb.netbox.monitored_hosts_held_ratio"}).asNumber(),
                   2.0 / 3);
  EXPECT_DOUBLE_EQ(facts->at({"ledger", "cmdb.netbox.monitored_hosts_held_ratio"}).asNumber(), 0.5);
  for (const auto& r : prometheus.requests()) {
    EXPECT_EQ(r.headers.count("authorization"), 0u) << "the NetBox token went to Prometheus";
  }
  EXPECT_FALSE(prometheus.requests().empty());
}

// The system profile from the tenants' custom fields: a field that is set declares the
// attribute, a null or missing one (or a runtime of another kind) declares nothing.
TEST_F(NetboxCollectorTest, TenantCustomFieldsGiveTheSystemProfile) {
  auto c = testing::buildCollector(
      "name: cmdb\ntype: netbox\nurl: " + fixture_.url() +
      "\ntoken_env: OPSM_TEST_NETBOX_TOKEN\nprofile_custom_fields: {frontend: is_frontend, "
      "has_cache: has_cache, has_database: has_db, runtime: runtime}\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "system.frontend"}), Value(false));
  EXPECT_EQ(facts->at({"payments", "system.has_cache"}), Value(true));
  EXPECT_EQ(facts->at({"payments", "system.has_database"}), Value(true));
  EXPECT_EQ(facts->at({"payments", "system.runtime"}), Value("container"));
  EXPECT_EQ(facts->count({"ledger", "system.frontend"}), 0u);
  EXPECT_EQ(facts->at({"ledger", "system.has_cache"}), Value(false));
  EXPECT_EQ(facts->count({"ledger", "system.runtime"}), 0u);
  EXPECT_EQ(facts->count({"crm", "system.has_cache"}), 0u);
  // without the option, no profile
  auto plain = testing::pollOnce(*collector_);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->count({"payments", "system.has_cache"}), 0u);

  auto bad = testing::buildCollector("name: cmdb\ntype: netbox\nurl: " + fixture_.url() +
                                     "\ntoken_env: OPSM_TEST_NETBOX_TOKEN\n"
                                     "profile_custom_fields: {cache: has_cache}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'cache' is not frontend"), std::string::npos)
      << bad.error().message;
}

TEST_F(NetboxCollectorTest, BadTokenIsUnauthenticated) {
  setenv("OPSM_TEST_NETBOX_TOKEN", "wrong-token-value", 1);
  auto c = testing::buildCollector("type: netbox\nurl: " + fixture_.url() +
                                   "\ntoken_env: OPSM_TEST_NETBOX_TOKEN\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_FALSE(facts);
  EXPECT_EQ(facts.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(facts.error().message.find("HTTP 403"), std::string::npos) << facts.error().message;
  EXPECT_NE(facts.error().message.find("Invalid token"), std::string::npos);
  EXPECT_EQ(facts.error().message.find("wrong-token-value"), std::string::npos);
}

TEST_F(NetboxCollectorTest, EveryFaultIsAClearErrorWithoutTheToken) {
  testing::expectFaultsHandled(*collector_, fixture_.faults, kToken);
}

TEST_F(NetboxCollectorTest, NextLinksToAnotherServerAreNotFollowed) {
  testing::FixtureServer evil([](const agent::HttpRequest&) {
    return agent::HttpReply{200, "application/json",
                            R"({"count": 2, "next": "http://192.0.2.1/api/tenancy/tenants/?offset=1", "previous": null, "results": [{"slug": "a"}]})"};
  });
  setenv("OPSM_TEST_NETBOX_TOKEN", kToken.c_str(), 1);
  auto c = testing::buildCollector("type: netbox\nurl: " + evil.url() +
                                   "\ntoken_env: OPSM_TEST_NETBOX_TOKEN\n");
  ASSERT_TRUE(c);
  auto facts = testing::pollOnce(**c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("another server"), std::string::npos)
      << facts.error().message;
}

TEST_F(NetboxCollectorTest, AFailedPollKeepsTheAgentsEvidence) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  auto config = agent::loadConfig(
      dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                 "/rules\ncollectors:\n  - name: cmdb\n    type: netbox\n    url: " +
                                 fixture_.url() + "\n    token_env: OPSM_TEST_NETBOX_TOKEN\n"),
      registry);
  ASSERT_TRUE(config) << config.error().message;
  auto a = agent::Agent::create(std::move(*config));
  ASSERT_TRUE(a) << a.error().message;
  auto ok = (*a)->poll(0);
  ASSERT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ((*a)->knownSystems(), (std::vector<std::string>{"crm", "ledger", "payments"}));
  fixture_.faults.set(testing::Fault::kTruncated);
  auto failed = (*a)->poll(0);
  EXPECT_FALSE(failed.ok);
  EXPECT_NE(failed.error.find("invalid JSON"), std::string::npos) << failed.error;
  auto kept = (*a)->evidence().find("payments", "cmdb.netbox.cis");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->value, Value(3));
  EXPECT_EQ(renderMetrics(**a).find(kToken), std::string::npos);
}

}  // namespace
}  // namespace opsm
