// The zabbix collector against a fixture server of the Zabbix 7.0 JSON-RPC API (Zabbix 7 is
// not in Debian 12; the real 6.0 is tested in tests/integration/zabbix_test.cpp): from 6.4 the
// API token goes in an `Authorization: Bearer` header, 7.2 rejects the old `auth` field
// ({"code": -32602, "data": "Invalid parameter \"/\": unexpected parameter \"auth\"."}), and
// host groups are `hostgroups` (selectHostGroups).
#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/collect.h"
#include "tests/support/fixture_server.h"

namespace opsm {
namespace {

using scorer::Value;
const std::string kToken = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";

agent::HttpReply rpc(const std::string& result) {
  return {200, "application/json", R"({"jsonrpc":"2.0","result":)" + result + R"(,"id":1})"};
}

TEST(ZabbixApi, Zabbix7GetsTheTokenInAHeaderNeverInTheBody) {
  std::mutex mu;
  std::vector<std::string> methods;
  testing::FixtureServer server([&](const agent::HttpRequest& r) {
    const std::string& body = r.body;
    auto is = [&](const char* m) { return body.find(std::string("\"method\":\"") + m + "\"") != std::string::npos; };
    {
      std::lock_guard lock(mu);
      methods.push_back(body.substr(0, 60));
    }
    if (is("apiinfo.version")) return rpc(R"("7.0.5")");
    if (body.find("\"auth\"") != std::string::npos) {
      return agent::HttpReply{200, "application/json",
                              R"({"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.","data":"Invalid parameter \"/\": unexpected parameter \"auth\"."},"id":1})"};
    }
    if (!r.headers.count("authorization") || r.headers.at("authorization") != "Bearer " + kToken) {
      return agent::HttpReply{200, "application/json",
                              R"({"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params.","data":"Not authorized."},"id":1})"};
    }
    if (is("host.get")) {
      if (body.find("selectHostGroups") == std::string::npos) return rpc("[]");
      return rpc(R"([{"hostid":"1","host":"shop-web","tls_connect":"1","maintenance_status":"0","tags":[{"tag":"system","value":"shop"}],"hostgroups":[{"groupid":"9","name":"Systems/shop"}],"interfaces":[{"type":"1","main":"1","available":"1"}]}])");
    }
    if (is("trigger.get")) {
      return rpc(R"([{"triggerid":"5","priority":"4","url":"","expression":"last(/shop-web/system.cpu.util)>90","hosts":[{"hostid":"1"}],"dependencies":[]}])");
    }
    return rpc("[]");
  });
  setenv("OPSM_TEST_ZABBIX7_TOKEN", kToken.c_str(), 1);
  auto c = testing::buildCollector("name: zbx\ntype: zabbix\nurl: " + server.url() +
                                   "\ntoken_env: OPSM_TEST_ZABBIX7_TOKEN\nhostgroup_regex: '^Systems/(.+)$'\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"shop", "monitoring.zabbix.hosts"}), Value(1));
  EXPECT_EQ(facts->at({"shop", "monitoring.zabbix.hosts_available"}), Value(1));
  EXPECT_EQ(facts->at({"shop", "monitoring.zabbix.triggers"}), Value(1));
  EXPECT_EQ(facts->at({"shop", "monitoring.zabbix.trigger_severities"}), Value(scorer::StringList{"high"}));
  for (const auto& r : server.requests()) {
    EXPECT_EQ(r.body.find(kToken), std::string::npos) << "the token is never in a body";
  }

  // A wrong token: unauthenticated, and the error does not carry it.
  setenv("OPSM_TEST_ZABBIX7_TOKEN", "0123", 1);
  auto bad = testing::buildCollector("name: zbx\ntype: zabbix\nurl: " + server.url() +
                                     "\ntoken_env: OPSM_TEST_ZABBIX7_TOKEN\nsystem_tag: system\n");
  ASSERT_TRUE(bad);
  auto denied = testing::pollOnce(**bad);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kUnauthenticated) << denied.error().message;
}

TEST(ZabbixApi, OlderThanSixIsRefusedByName) {
  testing::FixtureServer server([](const agent::HttpRequest&) { return rpc(R"("5.0.30")"); });
  setenv("OPSM_TEST_ZABBIX5_TOKEN", "x", 1);
  auto c = testing::buildCollector("name: zbx\ntype: zabbix\nurl: " + server.url() +
                                   "\ntoken_env: OPSM_TEST_ZABBIX5_TOKEN\nsystem_tag: system\n");
  ASSERT_TRUE(c);
  auto facts = testing::pollOnce(**c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("Zabbix 5.0.30 is not supported"), std::string::npos)
      << facts.error().message;
}

}  // namespace
}  // namespace opsm
