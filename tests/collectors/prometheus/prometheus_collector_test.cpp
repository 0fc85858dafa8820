// The Prometheus collector against a fixture server replaying payloads shaped like the
// Prometheus HTTP API (tests/fixtures/prometheus/), and against its error cases. The
// integration test runs it against a real Prometheus.
#include "collectors/prometheus/prometheus_collector.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/yaml_util.h"
#include "tests/support/fixture_server.h"
#include "tests/support/hostile_yaml.h"
#include "tests/support/temp_dir.h"

namespace opsm::collectors::prometheus {
namespace {

using scorer::Fact;
using scorer::Value;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(OPSM_SOURCE_DIR) + "/tests/fixtures/prometheus/" + name);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const std::map<std::string, std::string> kRoutes = {
    {"/api/v1/targets", "targets.json"},        {"/api/v1/query", "query_node.json"},
    {"/api/v1/rules", "rules.json"},            {"/api/v1/alertmanagers", "alertmanagers.json"},
    {"/api/v1/status/tsdb", "tsdb.json"},       {"/api/v1/status/config", "config.json"},
    {"/api/v1/status/runtimeinfo", "runtimeinfo.json"}};

class PrometheusCollectorTest : public ::testing::Test {
 protected:
  PrometheusCollectorTest()
      : server_([this](const agent::HttpRequest& r) -> agent::HttpReply {
          std::lock_guard lock(mu_);
          auto o = overrides_.find(r.path());
          if (o != overrides_.end()) {
            if (delay_.count()) std::this_thread::sleep_for(delay_);
            return o->second;
          }
          if (r.path() == "/api/v1/query" && r.target.find("__name__") != std::string::npos) {
            return {200, "application/json", fixture("query_signals.json")};
          }
          auto it = kRoutes.find(r.path());
          if (it == kRoutes.end()) return {404, "text/plain", "404 page not found\n"};
          return {200, "application/json", fixture(it->second)};
        }) {}

  void override(const std::string& path, agent::HttpReply reply,
                std::chrono::milliseconds delay = {}) {
    std::lock_guard lock(mu_);
    overrides_[path] = std::move(reply);
    delay_ = delay;
  }

  Result<std::unique_ptr<Collector>> make(const std::string& extra_yaml,
                                          const std::string& url = "") {
    Registry registry;
    EXPECT_TRUE(registerPrometheus(registry).ok());
    std::string yaml = "name: prom\ntype: prometheus\nurl: " + (url.empty() ? server_.url() : url) +
                       "\n" + extra_yaml;
    auto node = loadYamlString(yaml, "agent.yml");
    EXPECT_TRUE(node.ok());
    return registry.find("prometheus")->create(CollectorConfig{"prom", "agent.yml", *node});
  }

  Result<std::vector<Fact>> collect(Collector& c,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    CollectContext ctx;
    ctx.now = Clock::now();
    ctx.deadline = std::chrono::steady_clock::now() + timeout;
    return c.collect(ctx);
  }

  static std::optional<Value> find(const std::vector<Fact>& facts, const std::string& system,
                                   const std::string& key) {
    for (const auto& f : facts) {
      if (f.system == system && f.key == "monitoring.prometheus." + key) return f.value;
    }
    return std::nullopt;
  }

  std::mutex mu_;
  std::map<std::string, agent::HttpReply> overrides_;
  std::chrono::milliseconds delay_{0};
  testing::FixtureServer server_;
  testing::TempDir dir_;
};

const char* kByJob = "systems_by_job:\n  payments: \"payments-.*\"\n  billing: \"billing-.*\"\n";

TEST_F(PrometheusCollectorTest, MapsTargetsToSystemsByJobAndComputesFacts) {
  auto c = make(kByJob);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto facts = collect(**c);
  ASSERT_TRUE(facts.ok()) << facts.error().message;

  EXPECT_EQ(find(*facts, "payments", "targets_total"), Value(3));
  EXPECT_EQ(find(*facts, "payments", "targets_up"), Value(2));
  EXPECT_EQ(find(*facts, "payments", "targets_up_ratio"), Value(2.0 / 3.0));
  EXPECT_EQ(find(*facts, "payments", "node_metrics_scraped"), Value(true));
  EXPECT_EQ(find(*facts, "billing", "targets_total"), Value(1));
  EXPECT_EQ(find(*facts, "billing", "node_metrics_scraped"), Value(true));
  // The "misc" job maps to no system and is ignored.
  for (const auto& f : *facts) EXPECT_NE(f.system, "misc");
  // Any other system (the default, scorer::kAnySystem): only absence (zero targets, no rule,
  // no ratio, no server capability); nothing specific of a system the server does not know.
  const std::string any = scorer::kAnySystem;
  EXPECT_FALSE(find(*facts, "ledger", "targets_total").has_value());
  EXPECT_EQ(find(*facts, any, "targets_total"), Value(0));
  EXPECT_FALSE(find(*facts, any, "targets_up_ratio").has_value());
  EXPECT_EQ(find(*facts, any, "node_metrics_scraped"), Value(false));
  EXPECT_EQ(find(*facts, any, "alerting_rules"), Value(0));
  EXPECT_EQ(find(*facts, any, "alerts_firing"), Value(0));
  for (const char* server_wide : {"remote_write_configured", "recording_rules", "query_api_ok",
                                  "tsdb_head_series", "service_discovery"}) {
    EXPECT_FALSE(find(*facts, any, server_wide).has_value()) << server_wide;
  }

  // Rules: payments' two by their system label; billing's by its job and instance matchers.
  // The unscoped `up == 0` watches no system in particular (a platform rule: it counts for
  // none, and is a hint), nor does `absent(up{job="misc"})`, which selects no system's target.
  EXPECT_EQ(find(*facts, "payments", "alerting_rules"), Value(2));
  EXPECT_EQ(find(*facts, "billing", "alerting_rules"), Value(1));
  EXPECT_EQ(find(*facts, "billing", "alert_severities"), Value(scorer::StringList{"page"}));
  EXPECT_EQ(find(*facts, "payments", "alert_severities"),
            Value(scorer::StringList{"critical", "warning"}));
  EXPECT_EQ(find(*facts, "payments", "alerting_rules_with_runbook_ratio"), Value(0.5));
  EXPECT_EQ(find(*facts, "payments", "unscoped_alerting_rules"), Value(2));
  EXPECT_FALSE(find(*facts, any, "unscoped_alerting_rules").has_value());
  // Of the three recording rules only the SLI one reads payments' series; `sum by (job) (up)`
  // and `avg(up)` derive nothing from its data in particular.
  EXPECT_EQ(find(*facts, "payments", "recording_rules"), Value(1));
  // The SLI rule selecting payments' jobs counts for payments; the unscoped slo:... for none.
  EXPECT_EQ(find(*facts, "payments", "slo_recording_rules"), Value(1));
  EXPECT_EQ(find(*facts, "billing", "slo_recording_rules"), Value(0));
  EXPECT_EQ(find(*facts, "payments", "alerts_firing"), Value(1));
  EXPECT_EQ(find(*facts, "billing", "alerts_firing"), Value(0));
  // What the rules watch: up == 0 (both), predict_linear on free disk (payments only).
  EXPECT_EQ(find(*facts, "payments", "alert_topics"),
            Value(scorer::StringList{"capacity", "prediction", "target_down"}));
  EXPECT_EQ(find(*facts, "billing", "alert_topics"), Value(scorer::StringList{"target_down"}));
  // Signals by metric name on the system's own targets; misc's probe belongs to no system.
  EXPECT_EQ(find(*facts, "payments", "signals"),
            Value(scorer::StringList{"http", "logs", "node"}));
  EXPECT_EQ(find(*facts, "billing", "signals"), Value(scorer::StringList{"node"}));
  EXPECT_EQ(find(*facts, any, "signals"), Value(scorer::StringList{}));
  EXPECT_EQ(find(*facts, "payments", "targets_https_ratio"), Value(1.0 / 3));
  EXPECT_EQ(find(*facts, "payments", "service_discovery"),
            Value(scorer::StringList{"consul", "file"}));
  EXPECT_EQ(find(*facts, "payments", "alertmanagers_active"), Value(2));
  EXPECT_EQ(find(*facts, "payments", "tsdb_head_series"), Value(12345));
  EXPECT_EQ(find(*facts, "payments", "remote_write_configured"), Value(true));
  // its remote_write URL is http://: whatever TLS its scrapes use, the data goes on in clear
  EXPECT_EQ(find(*facts, "payments", "remote_write_plain"), Value(true));
  EXPECT_EQ(find(*facts, "payments", "scrape_interval_seconds"), Value(15.0));
  EXPECT_EQ(find(*facts, "payments", "storage_retention_seconds"), Value(30 * 86400.0))
      << "\"30d or 50GiB\" keeps the time part";

  bool saw_query = false;
  for (const auto& r : server_.requests()) {
    if (r.path() == "/api/v1/query" && r.target.find("__name__") == std::string::npos) {
      saw_query = true;
      EXPECT_EQ(r.target,
                "/api/v1/query?query=group%20by%20%28job%2C%20instance%29%20%28node_cpu_seconds_"
                "total%29");
    }
  }
  EXPECT_TRUE(saw_query);
}

TEST_F(PrometheusCollectorTest, BearerTokenFromFileIsSentAndNeverShown) {
  std::string token = "s3cr3t-token-value";
  auto token_file = dir_.write("token", token + "\n");
  auto c = make("bearer_token_file: " + token_file + "\n" + kByJob);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto facts = collect(**c);
  ASSERT_TRUE(facts.ok());
  auto reqs = server_.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs.front().headers["authorization"], "Bearer " + token);
  for (const auto& f : *facts) {
    EXPECT_EQ(f.locator.find(token), std::string::npos);
    EXPECT_EQ(f.value.toString().find(token), std::string::npos);
  }
  override("/api/v1/targets", {401, "text/plain", "Unauthorized\n"});
  auto denied = collect(**c);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(denied.error().message.find(token), std::string::npos);
}

TEST_F(PrometheusCollectorTest, CredentialsInTheUrlAreRedacted) {
  std::string url = server_.url();
  url.insert(std::string("http://").size(), "admin:hunter2@");
  auto c = make(kByJob, url);
  ASSERT_TRUE(c.ok());
  auto facts = collect(**c);
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  for (const auto& f : *facts) {
    EXPECT_EQ(f.locator.find("hunter2"), std::string::npos) << f.locator;
    EXPECT_NE(f.locator.find("REDACTED@"), std::string::npos) << f.locator;
  }
  override("/api/v1/rules", {503, "text/plain", "down"});
  auto failed = collect(**c);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message.find("hunter2"), std::string::npos) << failed.error().message;
}

TEST_F(PrometheusCollectorTest, TruncatedJsonIsABadResponseNamingTheEndpoint) {
  std::string rules = fixture("rules.json");
  override("/api/v1/rules", {200, "application/json", rules.substr(0, rules.size() / 2)});
  auto c = make(kByJob);
  auto facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(facts.error().message.find("/api/v1/rules: invalid JSON at byte"), std::string::npos)
      << facts.error().message;
}

TEST_F(PrometheusCollectorTest, ServerErrorCarriesStatusAndPrometheusError) {
  override("/api/v1/query",
           {503, "application/json",
            R"({"status":"error","errorType":"unavailable","error":"TSDB not ready"})"});
  auto c = make(kByJob);
  auto facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(facts.error().message.find("HTTP 503"), std::string::npos);
  EXPECT_NE(facts.error().message.find("TSDB not ready"), std::string::npos);
}

// An error body cannot forge log lines or send terminal escapes: control characters are
// escaped in the message that is logged and shown.
TEST_F(PrometheusCollectorTest, ControlCharactersInAnErrorBodyAreEscaped) {
  override("/api/v1/targets",
           {500, "text/plain", std::string("boom\x1b[2J\r\n2026-12-02 info [agent] all fine\0", 43)});
  auto c = make(kByJob);
  auto facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  const std::string& m = facts.error().message;
  for (char ch : m) EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20 && ch != '\t') << m;
  EXPECT_NE(m.find("boom\\x1b[2J\\x0d 2026-12-02"), std::string::npos) << m;
}

TEST_F(PrometheusCollectorTest, ErrorEnvelopeOrWrongShapeIsRejected) {
  override("/api/v1/targets", {200, "application/json", R"({"status":"error","error":"boom"})"});
  auto c = make(kByJob);
  auto facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_NE(facts.error().message.find("not a successful Prometheus API response: boom"),
            std::string::npos)
      << facts.error().message;
  override("/api/v1/targets", {200, "application/json", R"({"status":"success","data":[1,2]})"});
  facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_NE(facts.error().message.find("no activeTargets list"), std::string::npos);
  override("/api/v1/targets", {200, "application/json", R"([{"status":"success"}])"});
  EXPECT_FALSE(collect(**c).ok());
}

// A Prometheus that has just (re)started answers with targets it has not scraped yet, or none
// at all: the poll says it is not ready instead of reporting "no targets" (which would drop
// every system's monitoring levels until the next poll).
TEST_F(PrometheusCollectorTest, AServerThatHasNotScrapedYetIsNotReady) {
  std::string targets = fixture("targets.json");
  for (const char* h : {"\"health\":\"up\"", "\"health\":\"down\""}) {
    for (size_t at; (at = targets.find(h)) != std::string::npos;) {
      targets.replace(at, std::string(h).size(), "\"health\":\"unknown\"");
    }
  }
  override("/api/v1/targets", {200, "application/json", targets});
  auto c = make(kByJob);
  auto facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(facts.error().message.find("not ready: none of its 5 targets has been scraped yet"),
            std::string::npos)
      << facts.error().message;

  // No targets a minute after start: service discovery may not have run yet.
  override("/api/v1/targets",
           {200, "application/json", R"({"status":"success","data":{"activeTargets":[]}})"});
  std::string started = formatTime(Clock::now() - std::chrono::seconds(60));
  override("/api/v1/status/runtimeinfo",
           {200, "application/json",
            R"({"status":"success","data":{"startTime":")" + started +
                R"(","storageRetention":"15d"}})"});
  facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_NE(facts.error().message.find("not ready: no targets discovered yet"), std::string::npos)
      << facts.error().message;

  // No targets an hour after start: that is what it monitors (nothing), and it says so. The
  // system its rules name is known, without targets and without the server's capabilities.
  started = formatTime(Clock::now() - std::chrono::hours(1));
  override("/api/v1/status/runtimeinfo",
           {200, "application/json",
            R"({"status":"success","data":{"startTime":")" + started +
                R"(","storageRetention":"15d"}})"});
  facts = collect(**c);
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  for (const auto& f : *facts) {
    EXPECT_TRUE(f.system == scorer::kAnySystem || f.system == "payments") << f.system;
  }
  EXPECT_EQ(find(*facts, "payments", "targets_total"), Value(0));
  EXPECT_EQ(find(*facts, "payments", "alerting_rules"), Value(2)) << "its own, not `up == 0`";
  EXPECT_FALSE(find(*facts, "payments", "remote_write_configured").has_value());
  EXPECT_FALSE(find(*facts, "payments", "tsdb_head_series").has_value());
}

TEST_F(PrometheusCollectorTest, SlowServerTimesOutWithinTheDeadline) {
  override("/api/v1/targets", {200, "application/json", fixture("targets.json")},
           std::chrono::milliseconds(1500));
  auto c = make(kByJob);
  auto start = std::chrono::steady_clock::now();
  auto facts = collect(**c, std::chrono::milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().code, ErrorCode::kTimeout);
  EXPECT_LT(took, std::chrono::milliseconds(1400)) << "the deadline, not the server, decides";
}

TEST_F(PrometheusCollectorTest, ConfigErrorsNameTheField) {
  auto unknown = make("scrape_url: x\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("agent.yml:4: field 'scrape_url': unknown key"),
            std::string::npos)
      << unknown.error().message;
  auto bad_url = make("", "ftp://x");
  ASSERT_FALSE(bad_url.ok());
  EXPECT_NE(bad_url.error().message.find("field 'url'"), std::string::npos);
  auto bad_re = make("systems_by_job:\n  payments: \"(\"\n");
  ASSERT_FALSE(bad_re.ok());
  EXPECT_NE(bad_re.error().message.find("field 'systems_by_job.payments': invalid regular"),
            std::string::npos)
      << bad_re.error().message;
  auto no_token = make("bearer_token_file: /nonexistent/token\n");
  ASSERT_FALSE(no_token.ok());
  EXPECT_NE(no_token.error().message.find("field 'bearer_token_file': cannot read secret file"),
            std::string::npos)
      << no_token.error().message;
  auto both = make("bearer_token_env: A\nbasic_auth: {username: u, password_env: B}\n");
  ASSERT_FALSE(both.ok());
}

}  // namespace
}  // namespace opsm::collectors::prometheus

namespace opsm::collectors::prometheus {
namespace {

// A 700-byte "billion laughs" in the server's config YAML used to hang the poll far past its
// timeout (the collector was never polled again). Now the poll fails at once, naming it.
TEST_F(PrometheusCollectorTest, AnAliasBombInTheConfigYamlFailsThePollNamingIt) {
  const std::string yaml = testing::billionLaughs();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.StartObject();
  w.Key("yaml");
  w.String(yaml.c_str(), static_cast<rapidjson::SizeType>(yaml.size()));
  w.EndObject();
  w.EndObject();
  override("/api/v1/status/config", {200, "application/json", buf.GetString()});
  auto c = make(kByJob);
  ASSERT_TRUE(c.ok());
  auto facts = collect(**c);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(facts.error().message.find("/api/v1/status/config"), std::string::npos)
      << facts.error().message;
  EXPECT_NE(facts.error().message.find("once its aliases are expanded"), std::string::npos)
      << facts.error().message;
}

}  // namespace
}  // namespace opsm::collectors::prometheus
