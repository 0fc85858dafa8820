// The HTTP API of a running daemon: systems, one system's criteria with evidence and gaps,
// evidence, attestations POSTed with a bearer token (and every way of getting that wrong),
// and /-/reload keeping the running rules when the new ones are broken.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include <rapidjson/document.h>

#include "agent/core/agent.h"
#include "agent/daemon/daemon.h"
#include "collectors/common/http_client.h"
#include "tests/support/drill_pack.h"
#include "tests/support/running_agent.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

namespace fs = std::filesystem;
const std::string kToken = "api-token-for-tests-0123";

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A private copy of the rule pack, so that /-/reload can be tested with a broken one;
    // in it the drill plugin decides 6.7.4/L1/1.
    testing::drillRulePack(dir_);
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}]}");
    setenv("OPSM_TEST_API_TOKEN", kToken.c_str(), 1);
    std::string error;
    running_ = testing::RunningAgent::start(
        dir_.write("agent.yml", "listen_address: 127.0.0.1:0\nrules_dir: rules\n"
                                "api_token_env: OPSM_TEST_API_TOKEN\nsystems: [payments]\n"
                                "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                                    (dir_.path() / "facts.json").string() + "]}\n"),
        &error);
    ASSERT_TRUE(running_) << error;
    base_ = running_->base();
  }
  void TearDown() override { running_.reset(); }
  Result<collectors::HttpResponse> post(const std::string& path, const std::string& body,
                                        const std::string& token = kToken,
                                        const std::string& type = "application/json") {
    collectors::HttpOptions o;
    o.bearer_token = token;
    return collectors::HttpClient(o).post(base_ + path, body, type, std::chrono::seconds(5));
  }
  std::string get(const std::string& path) {
    auto r = plain_.get(base_ + path, std::chrono::seconds(5));
    return r ? r->body : r.error().message;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::RunningAgent> running_;
  std::string base_;
  collectors::HttpClient plain_{collectors::HttpOptions{}};
};

std::string attestation(const std::string& criterion, const std::string& system = "payments") {
  return "{\"system\": \"" + system + "\", \"criterion\": \"" + criterion +
         "\", \"document\": \"https://wiki.example.com/crisis-org\", "
         "\"date\": \"" + formatTime(Clock::now() - std::chrono::hours(1)).substr(0, 10) + "\"}";
}

TEST_F(ApiTest, SystemsCriteriaEvidenceAndGaps) {
  EXPECT_NE(get("/api/v1/systems").find("\"system\":\"payments\""), std::string::npos);
  std::string s = get("/api/v1/systems/payments");
  EXPECT_NE(s.find("\"item\":\"6.7.4\""), std::string::npos);
  // The automated criterion shows its evidence with provenance; level 1 lacks 6.7.4/L1/2.
  EXPECT_NE(s.find("\"key\":\"plugin.drill.last_report_age_seconds\",\"value\":3600.0,"
                   "\"collector\":\"drills\""),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("\"gaps_to_next_level\":[\"6.7.4/L1/2\"]"), std::string::npos);
  auto missing = plain_.get(base_ + "/api/v1/systems/nope", std::chrono::seconds(5));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("HTTP 404"), std::string::npos);
  EXPECT_NE(get("/api/v1/evidence?system=payments").find("plugin.drill.last_report_age_seconds"),
            std::string::npos);
}

// A "billion laughs" of 656 bytes: parsed as YAML it froze the scorer thread; it is not JSON.
const std::string kAliasBomb = [] {
  std::string text = "{a0: &a0 [lol]";
  for (int i = 1; i <= 9; ++i) {
    text += ", a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]";
  }
  return text + ", system: payments}";
}();

TEST_F(ApiTest, AttestationsNeedTheTokenAndAValidBody) {
  const std::string good = attestation("6.7.4/L1/2");
  struct Case {
    std::string body, token, type;
    std::string expect;
  };
  for (const auto& k : std::vector<Case>{
           {good, "", "application/json", "HTTP 401"},
           {good, "wrong-token-of-same-size-x", "application/json", "HTTP 401"},
           {good, kToken, "text/plain", "HTTP 415"},
           {"{\"system\": \"payments\", \"criterion\": ", kToken, "application/json", "HTTP 400"},
           {attestation("6.7.4/L1/1"), kToken, "application/json", "evidenced by collected evidence"},
           {attestation("9.9.9/L1/1"), kToken, "application/json", "no criterion 9.9.9/L1/1"},
           {"{\"attestations\": [" + good + ", {\"system\": \"payments\"}]}", kToken,
            "application/json", "field 'attestations[1].criterion': is required"},
           {std::string(100 * 1024, ' ') + good, kToken, "application/json", "HTTP 413"},
           // Only systems the agent scores: a typo would make a phantom system kept for good.
           {attestation("6.7.4/L1/2", "paymnets"), kToken, "application/json",
            "system 'paymnets' is not a system this agent scores"},
           {attestation("6.7.4/L1/2", "*"), kToken, "application/json",
            "'*' stands for every system a source knows"},
           {attestation("6.7.4/L1/2", "pay\\u0001ments"), kToken, "application/json",
            "field 'system': must not hold control characters"},
           {attestation("6.7.4/L1/2", "pay\\u0085"), kToken, "application/json",
            "field 'system': must not hold control characters"},
           // JSON only, checked against the body's declared fields.
           {kAliasBomb, kToken, "application/json", "request body: invalid JSON at byte"},
           {"{system: payments, criterion: 6.7.4/L1/2, document: d, date: 2026-01-01}", kToken,
            "application/json", "request body: invalid JSON at byte"},
           {good.substr(0, good.size() - 1) + ", \"system\": \"payments\"}", kToken,
            "application/json", "field 'system': given twice"},
           {good.substr(0, good.size() - 1) + ", \"sytem\": \"x\"}", kToken,
            "application/json", "field 'sytem': unknown field (allowed: system, criterion"},
           {good.substr(0, good.size() - 1) + ", \"met\": \"yes\"}", kToken,
            "application/json", "field 'met': must be true or false"},
           {"{\"attestations\": [" + good.substr(0, good.size() - 1) +
                ", \"note\": \"ok\\r\\n2026-12-04 [info] approved\"}]}",
            kToken, "application/json", "field 'attestations[0].note': must not hold control"},
           {"{\"attestations\": []}", kToken, "application/json",
            "field 'attestations': must not be empty"},
           {"[" + good + "]", kToken, "application/json", "request body: expected a JSON object"},
           {"{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", "
            "\"document\": \"d\", \"date\": \"" +
                formatTime(Clock::now() - std::chrono::hours(72)).substr(0, 10) +
                "\", \"expires\": \"" +
                formatTime(Clock::now() - std::chrono::hours(24)).substr(0, 10) + "\"}",
            kToken, "application/json", "the attestation of 6.7.4/L1/2 for payments has already expired"},
       }) {
    auto r = post("/api/v1/attestations", k.body, k.token, k.type);
    ASSERT_FALSE(r) << k.expect;
    EXPECT_NE(r.error().message.find(k.expect), std::string::npos)
        << k.expect << " <- " << r.error().message;
    EXPECT_EQ(r.error().message.find(kToken), std::string::npos);
  }
  // Nothing was stored, and the agent still serves.
  EXPECT_EQ(get("/api/v1/evidence").find("attestation.6.7.4/L1/2"), std::string::npos);

  auto ok = post("/api/v1/attestations", good);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 201);
  std::string s = get("/api/v1/systems/payments");
  EXPECT_NE(s.find("\"collector\":\"attestations-api\""), std::string::npos) << s;
  EXPECT_NE(s.find("\"gaps_to_next_level\":[\"6.7.4/L2/1\""), std::string::npos);
  EXPECT_NE(get("/metrics").find("opsmaturity_item_level{domain=\"6.7\",item=\"6.7.4\",system=\"payments\"} 1"),
            std::string::npos);
}

TEST_F(ApiTest, ReloadKeepsTheRunningRulesWhenTheNewOnesAreBroken) {
  auto file = dir_.path() / "rules" / "6.7.4-emergency-drills.yaml";
  ASSERT_TRUE(fs::exists(file)) << file;
  std::string original = dir_.write("keep.yaml", "");
  fs::copy_file(file, original, fs::copy_options::overwrite_existing);
  dir_.write("rules/6.7.4-emergency-drills.yaml", "item: \"6.7.4\"\nlevels: [oops\n");
  auto r = post("/-/reload", "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HTTP 500"), std::string::npos);
  EXPECT_NE(r.error().message.find("6.7.4-emergency-drills.yaml:"), std::string::npos)
      << r.error().message;
  EXPECT_NE(get("/api/v1/systems/payments").find("\"item\":\"6.7.4\""), std::string::npos);

  fs::copy_file(original, file, fs::copy_options::overwrite_existing);
  auto fixed = post("/-/reload", "");
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_EQ(fixed->body, "reloaded\n");
  auto get_reload = plain_.get(base_ + "/-/reload", std::chrono::seconds(5));
  ASSERT_FALSE(get_reload);
  EXPECT_NE(get_reload.error().message.find("HTTP 405"), std::string::npos);
  // Without the admin token (a form any web page could post): refused, nothing reloaded.
  for (const std::string& token : {std::string(), std::string("wrong-token-of-same-size-x")}) {
    auto anon = post("/-/reload", "x=1", token, "application/x-www-form-urlencoded");
    ASSERT_FALSE(anon);
    EXPECT_NE(anon.error().message.find("HTTP 401"), std::string::npos) << anon.error().message;
  }
}

TEST_F(ApiTest, ContentTypeIsMatchedExactly) {
  auto r = post("/api/v1/attestations", attestation("6.7.4/L1/2"), kToken, "application/jsonfoo");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HTTP 415"), std::string::npos);
  auto ok = post("/api/v1/attestations", attestation("6.7.4/L1/2"), kToken,
                 "Application/JSON; charset=utf-8");
  ASSERT_TRUE(ok) << ok.error().message;
}

TEST(ApiDisabled, WithoutATokenPostingIsForbidden) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  auto config = loadConfig(dir.write("agent.yml", "listen_address: 127.0.0.1:0\nrules_dir: " +
                                                      std::string(OPSM_SOURCE_DIR) +
                                                      "/rules\ncollectors: [{type: file, path: f.yaml}]\n"),
                           registry);
  ASSERT_TRUE(config);
  auto a = Agent::create(std::move(*config));
  ASSERT_TRUE(a);
  Daemon d(**a);
  ASSERT_TRUE(d.start().ok());
  std::thread t([&] { d.run(false); });
  collectors::HttpOptions o;
  o.bearer_token = "anything";
  auto r = collectors::HttpClient(o).post("http://127.0.0.1:" + std::to_string(d.port()) +
                                              "/api/v1/attestations",
                                          attestation("6.7.4/L1/2"), "application/json",
                                          std::chrono::seconds(5));
  d.stop();
  t.join();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HTTP 403"), std::string::npos) << r.error().message;
}

// The API answers by the agent's clock, not the wall clock: what counts, what expired and
// "now" are the same for the scores and for what the API says of them.
TEST(ApiClock, StatesAreJudgedByTheAgentsClock) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  dir.write("attestations.yaml",
            "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
            "    attested_by: Li Wei\n    approved_by: Wang Fang\n"
            "    document: https://wiki.example.com/crisis-org\n"
            "    date: " + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: true\n");
  auto config = loadConfig(dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                      "/rules\nattestations_file: attestations.yaml\n"
                                                      "systems: [payments]\n"
                                                      "collectors: [{type: file, path: f.yaml}]\n"),
                           registry);
  ASSERT_TRUE(config) << config.error().message;
  auto a = Agent::create(std::move(*config));
  ASSERT_TRUE(a) << a.error().message;
  auto list = [&] { return route(**a, HttpRequest{"GET", "/api/v1/attestations", {}, ""}).body; };
  EXPECT_NE(list().find("\"effective_state\":\"approved\",\"counts\":true"), std::string::npos)
      << list();
  // Ten years on by the agent's clock (the wall clock has not moved): it has expired.
  const TimePoint later = Clock::now() + std::chrono::hours(24 * 3650);
  (*a)->setClock([later] { return later; });
  EXPECT_NE(list().find("\"effective_state\":\"expired\",\"counts\":false"), std::string::npos)
      << list();
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// DNS rebinding: a page a browser on the agent's host loads can reach a loopback agent by a
// name of its own that resolves to 127.0.0.1. A loopback agent answers loopback names only.
TEST_F(ApiTest, ALoopbackAgentAnswersOnlyLoopbackHostNames) {
  auto as = [&](const std::string& host, const std::string& path) -> long {
    collectors::HttpOptions o;
    o.extra_headers["Host"] = host;
    o.max_retries = 0;
    auto r = collectors::HttpClient(o).get(base_ + path, std::chrono::seconds(5));
    if (r) return r->status;
    const auto at = r.error().message.find("HTTP ");
    return at == std::string::npos ? 0 : std::stol(r.error().message.substr(at + 5, 3));
  };
  EXPECT_EQ(as("rebind.attacker.example:9817", "/api/v1/attestations"), 421);
  EXPECT_EQ(as("rebind.attacker.example", "/metrics"), 421);
  EXPECT_EQ(as("localhost:9817", "/api/v1/systems"), 200);
  EXPECT_EQ(as("127.0.0.1", "/-/healthy"), 200);
  EXPECT_EQ(as("[::1]:9817", "/-/healthy"), 200);
}

TEST(ReadRequiresToken, TheApiAndConsoleNeedATokenMetricsAndHealthDoNot) {
  testing::TempDir dir;
  testing::drillRulePack(dir);
  dir.write("facts.json", "{\"facts\": []}");
  setenv("OPSM_TEST_API_TOKEN", kToken.c_str(), 1);
  std::string error;
  auto running = testing::RunningAgent::start(
      dir.write("agent.yml", "listen_address: 127.0.0.1:0\nrules_dir: rules\n"
                             "api_token_env: OPSM_TEST_API_TOKEN\nread_requires_token: true\n"
                             "allowed_hosts: [opsmaturity.example.com]\nsystems: [payments]\n"
                             "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                                 (dir.path() / "facts.json").string() + "]}\n"),
      &error);
  ASSERT_TRUE(running) << error;
  auto status = [&](const std::string& path, const std::string& token,
                    const std::string& host = "") -> long {
    collectors::HttpOptions o;
    o.bearer_token = token;
    o.max_retries = 0;
    if (!host.empty()) o.extra_headers["Host"] = host;
    auto r = collectors::HttpClient(o).get(running->base() + path, std::chrono::seconds(5));
    if (r) return r->status;
    const auto at = r.error().message.find("HTTP ");
    return at == std::string::npos ? 0 : std::stol(r.error().message.substr(at + 5, 3));
  };
  for (const char* path : {"/api/v1/systems", "/api/v1/evidence", "/api/v1/audit", "/ui/",
                           "/ui/reviews"}) {
    EXPECT_EQ(status(path, ""), 401) << path;
    EXPECT_EQ(status(path, kToken), 200) << path;
  }
  EXPECT_EQ(status("/metrics", ""), 200);
  EXPECT_EQ(status("/-/healthy", ""), 200);
  EXPECT_EQ(status("/-/ready", ""), 200);
  EXPECT_EQ(status("/ui/static/app.css", ""), 200);
  // allowed_hosts adds names to the loopback ones.
  EXPECT_EQ(status("/metrics", "", "opsmaturity.example.com:443"), 200);
  EXPECT_EQ(status("/metrics", "", "other.example.com"), 421);
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// Large answers come in pages: limit systems after cursor, and next_cursor while more follow.
TEST(ApiPages, SystemsAndEvidenceArePagedByCursor) {
  testing::TempDir dir;
  testing::drillRulePack(dir);
  std::string facts = "{\"facts\": [";
  for (int i = 0; i < 5; ++i) {
    facts += std::string(i ? "," : "") + "{\"system\": \"s" + std::to_string(i) +
             "\", \"key\": \"plugin.drill.last_report_age_seconds\", \"value\": 60}";
  }
  dir.write("facts.json", facts + "]}");
  std::string error;
  auto running = testing::RunningAgent::start(
      dir.write("agent.yml", "listen_address: 127.0.0.1:0\nrules_dir: rules\n"
                             "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                                 (dir.path() / "facts.json").string() + "]}\n"),
      &error);
  ASSERT_TRUE(running) << error;
  collectors::HttpClient http{collectors::HttpOptions{}};
  for (const std::string endpoint : {"/api/v1/systems", "/api/v1/evidence"}) {
    const char* list = endpoint == "/api/v1/systems" ? "systems" : "evidence";
    std::vector<std::string> seen;
    std::string cursor;
    for (int pages = 0; pages < 10; ++pages) {
      auto r = http.get(running->base() + endpoint + "?limit=2" +
                            (cursor.empty() ? "" : "&cursor=" + cursor),
                        std::chrono::seconds(5));
      ASSERT_TRUE(r) << r.error().message;
      rapidjson::Document d;
      d.Parse(r->body.c_str());
      ASSERT_TRUE(d.IsObject()) << r->body;
      std::set<std::string> systems;
      for (const auto& e : d[list].GetArray()) systems.insert(e["system"].GetString());
      EXPECT_LE(systems.size(), 2u) << r->body;
      seen.insert(seen.end(), systems.begin(), systems.end());
      if (!d.HasMember("next_cursor")) break;
      cursor = d["next_cursor"].GetString();
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"s0", "s1", "s2", "s3", "s4"})) << endpoint;
  }
}

}  // namespace
}  // namespace opsm::agent
