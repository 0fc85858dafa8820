// The zabbix collector against a real Zabbix 6.0 started by the test on loopback, once for
// the whole binary: PostgreSQL with Debian's Zabbix schema and data, the Debian frontend's
// JSON-RPC API served by `php -S` (a copy of /usr/share/zabbix whose config path points into
// the test's directory: nothing under /etc is touched), zabbix_server, and a zabbix_agentd
// that the server polls. The test configures a system through the API as an operator would
// (host group, host with a system tag, items, triggers, user media, an action) and checks the
// evidence; then changes the setup and checks that the evidence follows.
#include <gtest/gtest.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "collectors/common/http_client.h"
#include "collectors/common/json.h"
#include "collectors/zabbix/zabbix_collector.h"
#include "agent/core/agent.h"
#include "agent/core/config.h"
#include "tests/integration/prometheus_stack.h"
#include "tests/support/collect.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

namespace fs = std::filesystem;
using scorer::StringList;
using scorer::Value;

// A free 127.0.0.1 port Zabbix accepts (ListenPort is 1024..32767; ephemeral ports are above).
unsigned short freeLowPort() {
  static unsigned short next = static_cast<unsigned short>(20000 + getpid() % 10000);
  for (int tries = 0; tries < 2000; ++tries) {
    const unsigned short port = next++;
    if (next > 32767) next = 20000;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

class ZabbixIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* tool : {"zabbix_server", "zabbix_agentd", "php", "psql"}) {
      if (testing::findExecutable(tool).empty()) {
        setup_error_ = std::string(tool) + " is not installed (scripts/setup installs it)";
        return;
      }
    }
    dir_ = new testing::TempDir();
    const std::string root = dir_->path().string();
    pg_ = testing::PostgresServer::primary(root + "/pg").release();
    if (!pg_->ok()) {
      setup_error_ = "PostgreSQL did not start: " + pg_->log();
      return;
    }
    const std::string psql = "psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " +
                             std::to_string(pg_->port()) + " -U postgres";
    std::string load = psql + " -c 'create database zabbix'";
    for (const char* part : {"schema", "images", "data"}) {
      load += std::string(" && zcat /usr/share/zabbix-server-pgsql/") + part + ".sql.gz | " + psql +
              " zabbix > /dev/null";
    }
    // Statistics for the planner, as after any bulk load: without them PostgreSQL may plan the
    // frontend's trigger.get (a NOT EXISTS over functions, items and hosts) badly enough to
    // take minutes on a fresh database, until autovacuum happens to analyze the tables.
    load += " && " + psql + " -c ANALYZE zabbix";
    if (testing::Process({"sh", "-c", load}, root + "/load.log").wait() != 0) {
      setup_error_ = "the Zabbix schema did not load";
      return;
    }
    // The frontend, with its config file in the test's directory.
    fs::copy("/usr/share/zabbix", root + "/web", fs::copy_options::recursive);
    const std::string config_class = root + "/web/include/classes/core/CConfigFile.php";
    std::ifstream in(config_class);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text = std::regex_replace(text, std::regex("/etc/zabbix/zabbix.conf.php"), root + "/zabbix.conf.php");
    std::ofstream(config_class, std::ios::trunc) << text;
    server_port_ = freeLowPort();
    agent_port_ = freeLowPort();
    web_port_ = testing::freePort();
    dir_->write("zabbix.conf.php",
                "<?php\n$DB['TYPE'] = 'POSTGRESQL';\n$DB['SERVER'] = '127.0.0.1';\n$DB['PORT'] = '" +
                    std::to_string(pg_->port()) +
                    "';\n$DB['DATABASE'] = 'zabbix';\n$DB['USER'] = 'postgres';\n$DB['PASSWORD'] = "
                    "'';\n$DB['SCHEMA'] = '';\n$DB['ENCRYPTION'] = false;\n$DB['KEY_FILE'] = '';\n"
                    "$DB['CERT_FILE'] = '';\n$DB['CA_FILE'] = '';\n$DB['VERIFY_HOST'] = false;\n"
                    "$DB['CIPHER_LIST'] = '';\n$DB['VAULT_URL'] = '';\n$DB['VAULT_DB_PATH'] = '';\n"
                    "$DB['VAULT_TOKEN'] = '';\n$DB['DOUBLE_IEEE754'] = true;\n$ZBX_SERVER = "
                    "'127.0.0.1';\n$ZBX_SERVER_PORT = '" +
                    std::to_string(server_port_) +
                    "';\n$ZBX_SERVER_NAME = 'test';\n$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;\n");
    setenv("PHP_CLI_SERVER_WORKERS", "2", 1);  // the API answers two requests at once
    web_ = new testing::Process({"php", "-S", "127.0.0.1:" + std::to_string(web_port_), "-t", root + "/web"},
                                root + "/php.log");
    dir_->write("server.conf",
                "ListenIP=127.0.0.1\nListenPort=" + std::to_string(server_port_) + "\nLogFile=" + root +
                    "/server.log\nPidFile=" + root + "/server.pid\nSocketDir=" + root +
                    "\nDBHost=127.0.0.1\nDBPort=" + std::to_string(pg_->port()) +
                    "\nDBName=zabbix\nDBUser=postgres\nAllowRoot=1\nCacheUpdateFrequency=1\n"
                    "StartPollers=2\nStartPollersUnreachable=1\nStartTrappers=1\nStartPingers=1\n"
                    "StartDiscoverers=0\nStartHTTPPollers=0\nStartTimers=1\nStartEscalators=1\n"
                    "StartAlerters=1\nStartPreprocessors=1\nStartLLDProcessors=1\nStartHistoryPollers=1\n"
                    "CacheSize=16M\nHistoryCacheSize=16M\nHistoryIndexCacheSize=4M\nTrendCacheSize=4M\n"
                    "ValueCacheSize=16M\nTimeout=3\n");
    server_ = new testing::Process({"zabbix_server", "-f", "-c", root + "/server.conf"}, root + "/server.out");
    dir_->write("agent.conf", "ListenIP=127.0.0.1\nListenPort=" + std::to_string(agent_port_) +
                                  "\nServer=127.0.0.1\nHostname=shop-web\nLogFile=" + root +
                                  "/agent.log\nPidFile=" + root + "/agent.pid\nAllowRoot=1\n");
    agent_ = new testing::Process({"zabbix_agentd", "-f", "-c", root + "/agent.conf"}, root + "/agent.out");
    if (!testing::waitFor([] { return call("apiinfo.version", "{}", "").ok(); }, std::chrono::seconds(30))) {
      setup_error_ = "the Zabbix API did not answer: " + web_->log();
    }
  }

  static void TearDownTestSuite() {
    for (auto** p : {&agent_, &server_, &web_}) {
      delete *p;
      *p = nullptr;
    }
    delete pg_;
    pg_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << setup_error_;
  }

  static std::string url() { return "http://127.0.0.1:" + std::to_string(web_port_); }

  // One JSON-RPC call; the result as JSON text.
  static Result<std::string> call(const std::string& method, const std::string& params,
                                  const std::string& auth) {
    collectors::HttpClient http({});
    std::string body = R"({"jsonrpc":"2.0","method":")" + method + R"(","params":)" + params +
                       R"(,"id":1)" + (auth.empty() ? "" : R"(,"auth":")" + auth + "\"") + "}";
    auto resp = http.post(url() + "/api_jsonrpc.php", body, "application/json-rpc", std::chrono::seconds(20));
    if (!resp) return resp.error();
    auto doc = collectors::parseJson(resp->body, method);
    if (!doc) return doc.error();
    if (doc->HasMember("error")) return makeError(ErrorCode::kBadResponse, method + ": " + resp->body);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    (*doc)["result"].Accept(w);
    return std::string(buf.GetString());
  }

  // The first string a regex's group captures in a call's result (ids).
  static std::string must(const std::string& method, const std::string& params, const std::string& auth,
                          const std::string& capture = "") {
    auto r = call(method, params, auth);
    EXPECT_TRUE(r) << r.error().message;
    if (!r || capture.empty()) return r ? *r : "";
    std::smatch m;
    EXPECT_TRUE(std::regex_search(*r, m, std::regex(capture))) << method << ": " << *r;
    return m.size() > 1 ? m[1].str() : "";
  }

  // What an operator sets up first: a session, the group Systems/shop and its host shop-web
  // (tagged system=shop, its agent interface the test's zabbix_agentd) with agent items of
  // the given fields, polled every 5 s.
  struct Shop {
    std::string session, group, host;
  };
  static Shop createShop(const std::vector<std::string>& agent_items) {
    Shop shop;
    shop.session = must("user.login", R"({"username":"Admin","password":"zabbix"})", "", R"(^"([0-9a-f]+)\"$)");
    const std::string& s = shop.session;
    shop.group = must("hostgroup.create", R"({"name":"Systems/shop"})", s, R"re("(\d+)")re");
    shop.host = must("host.create",
                     R"({"host":"shop-web","groups":[{"groupid":")" + shop.group +
                         R"("}],"tags":[{"tag":"system","value":"shop"}],"interfaces":[{"type":1,"main":1,"useip":1,"ip":"127.0.0.1","dns":"","port":")" +
                         std::to_string(agent_port_) + R"("}]})",
                     s, R"re("(\d+)")re");
    const std::string iface =
        must("hostinterface.get", R"({"hostids":")" + shop.host + "\"}", s, R"re("interfaceid":"(\d+)")re");
    for (const auto& item : agent_items) {
      must("item.create", "{" + item + R"(,"hostid":")" + shop.host + R"(","type":0,"interfaceid":")" + iface +
                              R"(","delay":"5s"})",
           s);
    }
    return shop;
  }

  // An API token of the administrator, where the collectors' token_env reads it.
  static std::string issueToken(const std::string& session) {
    const std::string id = must("token.create", R"({"name":"opsmaturity","userid":"1"})", session, R"re("(\d+)")re");
    const std::string token = must("token.generate", "[\"" + id + "\"]", session, R"re("token":"([0-9a-f]+)")re");
    setenv("OPSM_TEST_ZABBIX_TOKEN", token.c_str(), 1);
    return token;
  }

  static inline std::string setup_error_;
  static inline testing::TempDir* dir_ = nullptr;
  static inline testing::PostgresServer* pg_ = nullptr;
  static inline testing::Process *web_ = nullptr, *server_ = nullptr, *agent_ = nullptr;
  static inline unsigned short server_port_ = 0, agent_port_ = 0, web_port_ = 0;
};

TEST_F(ZabbixIntegration, ASystemsMonitoringAndAlertRoutingFollowTheConfiguration) {
  const Shop configured = createShop({R"("name":"load","key_":"system.cpu.load","value_type":0)",
                                R"("name":"ping","key_":"agent.ping","value_type":3)"});
  const std::string &s = configured.session, &group = configured.group;
  ASSERT_FALSE(s.empty());
  must("trigger.create",
       R"([{"description":"load high","expression":"last(/shop-web/system.cpu.load)>100","priority":4,"url":"https://runbooks.invalid/load"},)"
       R"({"description":"agent down","expression":"nodata(/shop-web/agent.ping,30s)=1","priority":5}])",
       s);
  // The administrator receives e-mail and PagerDuty (media types 1 and 7 of Debian's data).
  must("user.update",
       R"({"userid":"1","medias":[{"mediatypeid":"1","sendto":["ops@example.com"],"active":0},{"mediatypeid":"7","sendto":"pd-key","active":0}]})",
       s);
  const std::string action = must(
      "action.create",
      R"({"name":"shop problems","eventsource":0,"status":0,"esc_period":"1h","filter":{"evaltype":0,"conditions":[{"conditiontype":0,"operator":0,"value":")" +
          group +
          R"("}]},"operations":[{"operationtype":0,"esc_step_from":1,"esc_step_to":1,"opmessage_grp":[{"usrgrpid":"7"}],"opmessage":{"default_msg":1,"mediatypeid":"0"}},)"
          R"({"operationtype":0,"esc_step_from":2,"esc_step_to":2,"opmessage_usr":[{"userid":"1"}],"opmessage":{"default_msg":1,"mediatypeid":"7"}}]})",
      s, R"re("(\d+)")re");
  ASSERT_FALSE(issueToken(s).empty());

  auto c = testing::buildCollector("name: zbx\ntype: zabbix\nurl: " + url() +
                                   "\ntoken_env: OPSM_TEST_ZABBIX_TOKEN\nsystem_tag: system\n");
  ASSERT_TRUE(c) << c.error().message;
  auto key = [](const std::string& k) { return std::make_pair(std::string("shop"), k); };
  Result<testing::FactMap> f = makeError(ErrorCode::kInternal, "not polled");
  // The server picks the host up and polls the agent: the items get values.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        f = testing::pollOnce(**c);
        return f && f->count(key("monitoring.zabbix.host_metrics")) &&
               f->at(key("monitoring.zabbix.host_metrics")) == Value(true) &&
               f->at(key("monitoring.zabbix.hosts_available")) == Value(1);
      },
      std::chrono::seconds(90)))
      << (f ? "the agent was never polled" : f.error().message) << "\n" << server_->log();
  EXPECT_EQ(f->at(key("monitoring.zabbix.hosts")), Value(1));
  EXPECT_EQ(f->at(key("monitoring.zabbix.items")), Value(2));
  EXPECT_EQ(f->at(key("monitoring.zabbix.signals")), Value(StringList{"node"}));
  EXPECT_EQ(f->at(key("monitoring.zabbix.min_update_interval_seconds")), Value(5));
  EXPECT_EQ(f->at(key("monitoring.zabbix.triggers")), Value(2));
  EXPECT_EQ(f->at(key("monitoring.zabbix.trigger_severities")), Value(StringList{"disaster", "high"}));
  EXPECT_EQ(f->at(key("monitoring.zabbix.triggers_with_url_ratio")), Value(0.5));
  EXPECT_EQ(f->at(key("monitoring.zabbix.trigger_topics")), Value(StringList{"capacity", "target_down"}));
  EXPECT_EQ(f->at(key("alerting.zabbix.channels")), Value(StringList{"email", "pagerduty"}));
  EXPECT_EQ(f->at(key("alerting.zabbix.dedicated_action")), Value(true));
  EXPECT_EQ(f->at(key("alerting.zabbix.escalation")), Value(true));
  // The default "Zabbix server" host carries no system tag: nobody's.
  for (const auto& [k, _] : *f) EXPECT_EQ(k.first, "shop") << k.second;

  // PagerDuty goes from the user: e-mail only; then the action is disabled: no channel.
  must("user.update", R"({"userid":"1","medias":[{"mediatypeid":"1","sendto":["ops@example.com"],"active":0}]})", s);
  f = testing::pollOnce(**c);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->at(key("alerting.zabbix.channels")), Value(StringList{"email"}));
  must("action.update", R"({"actionid":")" + action + R"(","status":1})", s);
  f = testing::pollOnce(**c);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->at(key("alerting.zabbix.channels")), Value(StringList{}));
  EXPECT_EQ(f->at(key("alerting.zabbix.dedicated_action")), Value(false));
  EXPECT_EQ(f->at(key("monitoring.zabbix.actions")), Value(0));

  // An action on a host group shared with another system ("Linux servers": shop-web and
  // billing-web) covers both and notifies, but is dedicated to neither.
  const std::string linux_group =
      must("hostgroup.create", R"({"name":"Linux servers - shared"})", s, R"re("(\d+)")re");
  must("host.update",
       R"({"hostid":")" + configured.host + R"(","groups":[{"groupid":")" + group +
           R"("},{"groupid":")" + linux_group + R"("}]})",
       s);
  must("host.create",
       R"({"host":"billing-web","groups":[{"groupid":")" + linux_group +
           R"("}],"tags":[{"tag":"system","value":"billing"}]})",
       s, R"re("(\d+)")re");
  must("action.create",
       R"({"name":"linux problems","eventsource":0,"status":0,"esc_period":"1h","filter":{"evaltype":0,"conditions":[{"conditiontype":0,"operator":0,"value":")" +
           linux_group +
           R"("}]},"operations":[{"operationtype":0,"esc_step_from":1,"esc_step_to":1,"opmessage_grp":[{"usrgrpid":"7"}],"opmessage":{"default_msg":1,"mediatypeid":"0"}}]})",
       s, R"re("(\d+)")re");
  f = testing::pollOnce(**c);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->at(key("alerting.zabbix.channels")), Value(StringList{"email"}));
  EXPECT_EQ(f->at(key("monitoring.zabbix.actions")), Value(1));
  EXPECT_EQ(f->at(key("alerting.zabbix.dedicated_action")), Value(false));
  EXPECT_EQ(f->at({"billing", "alerting.zabbix.dedicated_action"}), Value(false));

  // A wrong token is a clear error without the token.
  setenv("OPSM_TEST_ZABBIX_TOKEN", "0000000000000000000000000000000000000000000000000000000000000000", 1);
  auto bad = testing::buildCollector("name: zbx\ntype: zabbix\nurl: " + url() +
                                     "\ntoken_env: OPSM_TEST_ZABBIX_TOKEN\nsystem_tag: system\n");
  ASSERT_TRUE(bad);
  auto denied = testing::pollOnce(**bad);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kUnauthenticated) << denied.error().message;
  EXPECT_EQ(denied.error().message.find("0000000000"), std::string::npos);
}

// The acceptance test of the vendor-neutral layer: the same practices, once watched by
// Prometheus + Alertmanager (system payments) and once by Zabbix (system shop), reach the same
// levels in every item of 6.1 (监控告警). Both systems: a host whose CPU and memory metrics are
// collected, series stored and queryable, one derived series (a recording rule / a calculated
// item), alert rules of its own that all link a runbook, in at least two severities, reaching
// e-mail and PagerDuty through a route / action that names the system, with no inhibition.
// The attestation criteria of 6.1 are attested alike for both, so the levels rest on what the
// collectors show.
TEST_F(ZabbixIntegration, APrometheusAndAZabbixSystemWithTheSameFactsReachTheSameLevels) {
  // Prometheus + Alertmanager: the stack's payments (node_exporter, 2 rules of payments with
  // runbooks; the global `up == 0` is nobody's; 1 recording rule over payments' job).
  testing::PrometheusStack prom;
  std::string started = prom.start();
  ASSERT_TRUE(started.empty()) << started;
  const std::string am_bin = testing::findExecutable("prometheus-alertmanager");
  ASSERT_FALSE(am_bin.empty());
  const unsigned short am_port = testing::freePort();
  const std::string am_config = dir_->write("alertmanager.yml", R"(route:
  receiver: default
  group_by: [alertname, system]
  routes:
    - receiver: payments-oncall
      matchers: ['system="payments"']
receivers:
  - name: default
  - name: payments-oncall
    email_configs: [{to: "oncall@example.invalid", from: "am@example.invalid", smarthost: "127.0.0.1:25"}]
    pagerduty_configs: [{routing_key: "pd-key", url: "http://127.0.0.1:1/pd"}]
)");
  testing::Process am({am_bin, "--config.file=" + am_config, "--storage.path=" + dir_->path().string() + "/am",
                       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
                      dir_->path().string() + "/alertmanager.log");

  // Zabbix: shop, configured through the API as an operator would.
  const Shop configured = createShop({R"("name":"load","key_":"system.cpu.load","value_type":0)",
                                R"("name":"memory","key_":"vm.memory.size[available]","value_type":3)"});
  const std::string &s = configured.session, &group = configured.group, &host = configured.host;
  ASSERT_FALSE(s.empty());
  must("item.create", R"({"name":"load x2","key_":"load.double","hostid":")" + host +
                          R"(","type":15,"value_type":0,"delay":"10s","params":"last(//system.cpu.load)*2"})",
       s);
  must("trigger.create",
       R"([{"description":"load high","expression":"last(/shop-web/system.cpu.load)>100","priority":4,"url":"https://runbooks.invalid/load"},)"
       R"({"description":"memory low","expression":"last(/shop-web/vm.memory.size[available])<1","priority":5,"url":"https://runbooks.invalid/memory"},)"
       R"({"description":"load very high","expression":"last(/shop-web/system.cpu.load)>1000","priority":1,"url":"https://runbooks.invalid/load"}])",
       s);
  must("user.update",
       R"({"userid":"1","medias":[{"mediatypeid":"1","sendto":["oncall@example.invalid"],"active":0},{"mediatypeid":"7","sendto":"pd-key","active":0}]})",
       s);
  must("action.create",
       R"({"name":"shop problems","eventsource":0,"status":0,"esc_period":"1h","filter":{"evaltype":0,"conditions":[{"conditiontype":0,"operator":0,"value":")" +
           group +
           R"("}]},"operations":[{"operationtype":0,"esc_step_from":1,"esc_step_to":1,"opmessage_grp":[{"usrgrpid":"7"}],"opmessage":{"default_msg":1,"mediatypeid":"0"}}]})",
       s);
  ASSERT_FALSE(issueToken(s).empty());

  // Every attestation criterion of 6.1 attested met, alike for both systems.
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto pack = scorer::loadRulePack(std::string(OPSM_SOURCE_DIR) + "/rules");
  ASSERT_TRUE(pack) << pack.error().message;
  std::string attestations = "attestations:\n";
  const std::string date = formatTime(Clock::now() - std::chrono::hours(24));
  for (const auto& item : pack->items) {
    if (item.domain != "6.1") continue;
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        if (!c.attestation) continue;
        for (const char* system : {"payments", "shop"}) {
          attestations += std::string("  - {system: ") + system + ", criterion: " + c.id +
                          ", attested_by: Li Wei, document: 'https://wiki.example.com/" + c.id +
                          "', date: " + date + ", met: true}\n";
        }
      }
    }
  }
  dir_->write("attestations.yaml", attestations);
  auto config = agent::loadConfig(
      dir_->write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) + "/rules\n" +
                                   "attestations_file: attestations.yaml\ncollectors:\n"
                                   "  - {name: prom, type: prometheus, url: '" + prom.prometheusUrl() + "'}\n"
                                   "  - {name: am, type: alertmanager, url: 'http://127.0.0.1:" + std::to_string(am_port) + "'}\n"
                                   "  - {name: zbx, type: zabbix, url: '" + url() + "', token_env: OPSM_TEST_ZABBIX_TOKEN, system_tag: system, interval: 60s, timeout: 30s}\n"),
      registry);
  ASSERT_TRUE(config) << config.error().message;
  auto created = agent::Agent::create(std::move(*config));
  ASSERT_TRUE(created) << created.error().message;
  agent::Agent& agent = **created;
  // Polls until every source answers and Zabbix has collected the host's metrics.
  ASSERT_TRUE(testing::waitFor(
      [&] {
        bool all = true;
        for (const auto& o : agent.pollAll()) all = all && o.ok;
        auto e = agent.evidence().find("shop", "monitoring.host_metrics");
        return all && e && e->value == Value(true);
      },
      std::chrono::seconds(120)))
      << server_->log() << am.log();
  agent.rescore();
  auto pay = agent.explainedScore("payments"), shop = agent.explainedScore("shop");
  ASSERT_TRUE(pay && shop);
  int nonzero = 0;
  for (size_t i = 0; i < pay->items.size(); ++i) {
    const auto& a = pay->items[i];
    if (a.domain != "6.1") continue;
    const auto& b = shop->items[i];
    ASSERT_EQ(a.item, b.item);
    std::string why;
    for (size_t k = 0; k < a.criteria.size(); ++k) {
      if (a.criteria[k].state != b.criteria[k].state) {
        why += "\n  " + a.criteria[k].criterion->id + ": payments " +
               scorer::criterionStateName(a.criteria[k].state) + " (" + a.criteria[k].reason +
               "), shop " + scorer::criterionStateName(b.criteria[k].state) + " (" +
               b.criteria[k].reason + ")";
      }
    }
    EXPECT_EQ(a.level, b.level) << a.item << why;
    nonzero += a.level > 0;
  }
  // Not a vacuous equality: the collected evidence carries both systems past level 0.
  EXPECT_GE(nonzero, 3);
  // The explanation of a merged or derived domain key names where it came from.
  for (const auto& i : shop->items) {
    for (const auto& c : i.criteria) {
      if (c.criterion->id == "6.1.6/L1/1") {
        EXPECT_NE(c.reason.find("via monitoring.zabbix.triggers"), std::string::npos) << c.reason;
      }
    }
  }
}

TEST(ZabbixParsing, IntervalsTopicsAndSignals) {
  using collectors::zabbix::parseZabbixSeconds;
  EXPECT_EQ(parseZabbixSeconds("30s"), 30);
  EXPECT_EQ(parseZabbixSeconds("1m"), 60);
  EXPECT_EQ(parseZabbixSeconds("90d"), 90 * 86400);
  EXPECT_EQ(parseZabbixSeconds("60"), 60);
  EXPECT_EQ(parseZabbixSeconds("1m;wd1-5h9-18"), 60);
  EXPECT_FALSE(parseZabbixSeconds("{$INTERVAL}"));
  EXPECT_FALSE(parseZabbixSeconds("fast"));
  EXPECT_FALSE(parseZabbixSeconds(""));
  using collectors::zabbix::triggerTopics;
  EXPECT_EQ(triggerTopics("nodata(/web/agent.ping,5m)=1"), (std::set<std::string>{"target_down"}));
  EXPECT_TRUE(triggerTopics("forecast(/db/vfs.fs.size[/,pused],1h,1d)>95").count("prediction"));
  EXPECT_TRUE(triggerTopics("last(/web/web.test.fail[shop])<>0").count("errors"));
  EXPECT_TRUE(triggerTopics("avg(/web/web.test.time[shop,home,resp],5m)>2").count("latency"));
  using collectors::zabbix::itemSignal;
  EXPECT_EQ(itemSignal("system.cpu.util"), "node");
  EXPECT_EQ(itemSignal("logrt[/var/log/app.log]"), "logs");
  // a web scenario is a synthetic check, not the service's own request telemetry
  EXPECT_EQ(itemSignal("web.test.in[shop,,bps]"), "probe");
  EXPECT_EQ(itemSignal("agent.ping"), "");
}

}  // namespace
}  // namespace opsm
