// No secret appears in logs, metrics, evidence or error messages: an agent whose collectors
// hold secrets of every kind (tokens from files and variables, basic-auth passwords, a Redis
// password, a restic repository password) polls servers that refuse them and reflect the
// request's Authorization header back in their error bodies.
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>

#include <optional>
#include <sstream>

#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "collectors/common/subprocess.h"
#include "common/log.h"
#include "tests/support/base64.h"
#include "tests/support/fixture_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

const std::vector<std::string> kSecrets = {
    "S3CRET-netbox-token-1", "S3CRET-gitlab-token-2", "S3CRET-jira-password-3",
    "S3CRET-cmdb-token-4",   "S3CRET-redis-pass-5",   "S3CRET-restic-pass-6",
    "S3CRET-prom-pass-7"};

using testing::base64;

// Captures what the named loggers write, at debug level, for as long as it lives.
class LogCapture {
 public:
  explicit LogCapture(std::vector<std::string> names)
      : names_(std::move(names)), sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    setLogLevel("debug");
    for (const auto& n : names_) {
      logger(n)->sinks().push_back(sink_);
      logger(n)->set_level(spdlog::level::debug);
    }
  }
  ~LogCapture() {
    for (const auto& n : names_) logger(n)->sinks().pop_back();
    setLogLevel("info");
  }
  std::string text() const { return out_.str(); }

 private:
  std::vector<std::string> names_;
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST(Secrets, NeverInLogsMetricsEvidenceOrErrors) {
  // A server that refuses everyone and reflects what it was sent.
  testing::FixtureServer reflecting([](const agent::HttpRequest& r) {
    std::string auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    return agent::HttpReply{401, "application/json",
                            "{\"detail\": \"bad credentials: " + auth + " for " + r.target + "\"}"};
  });
  testing::TempDir dir;
  std::string redis_bin = testing::findExecutable("redis-server");
  ASSERT_FALSE(redis_bin.empty());
  unsigned short redis_port = testing::freePort();
  testing::Process redis({redis_bin, "--bind", "127.0.0.1", "--port", std::to_string(redis_port),
                          "--save", "", "--requirepass", "another-password"},
                         (dir.path() / "redis.log").string());
  std::string repo = (dir.path() / "restic").string();
  collectors::CommandOptions init;
  init.env["RESTIC_PASSWORD"] = "the-real-restic-password";
  auto made = collectors::runCommand({"restic", "init", "-q", "-r", repo}, init);
  ASSERT_TRUE(made && made->exit_code == 0);

  setenv("OPSM_SECRET_NETBOX", kSecrets[0].c_str(), 1);
  setenv("OPSM_SECRET_CMDB", kSecrets[3].c_str(), 1);
  std::string url = reflecting.url();
  std::string prom_url = url;
  prom_url.insert(7, "admin:" + kSecrets[6] + "@");
  std::string config =
      "rules_dir: " + std::string(OPSM_SOURCE_DIR) + "/rules\n"
      "systems: [payments]\n"
      "collectors:\n"
      "  - {name: netbox, type: netbox, url: " + url + ", token_env: OPSM_SECRET_NETBOX}\n"
      "  - {name: gitlab, type: gitlab, url: " + url + ", token_file: " +
      dir.write("gitlab.token", kSecrets[1] + "\n") + ", projects: {g/p: payments}}\n"
      "  - name: jira\n    type: jira\n    url: " + url +
      "\n    basic_auth: {username: ops@example.com, password_file: " +
      dir.write("jira.pw", kSecrets[2] + "\n") + "}\n    incidents: {jql: project = INC}\n"
      "  - {name: cmdb, type: rest_cmdb, url: " + url + "/cis, system: /app, bearer_token_env: OPSM_SECRET_CMDB}\n"
      "  - {name: redis, type: redis, system: payments, address: '127.0.0.1:" +
      std::to_string(redis_port) + "', password_file: " +
      dir.write("redis.pw", kSecrets[4] + "\n") + "}\n"
      "  - {name: restic, type: restic, repository: " + repo + ", system: payments, password_file: " +
      dir.write("restic.pw", kSecrets[5] + "\n") + "}\n"
      "  - {name: prom, type: prometheus, url: '" + prom_url + "'}\n";
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto cfg = agent::loadConfig(dir.write("agent.yml", config), registry);
  ASSERT_TRUE(cfg) << cfg.error().message;

  std::optional<LogCapture> capture(std::in_place,
                                    std::vector<std::string>{"agent", "collector", "scheduler", "http"});
  auto a = agent::Agent::create(std::move(*cfg));
  ASSERT_TRUE(a) << a.error().message;
  std::string errors;
  for (const auto& outcome : (*a)->pollAll()) {
    EXPECT_FALSE(outcome.ok) << outcome.collector << " should have been refused";
    errors += outcome.collector + ": " + outcome.error + "\n";
  }
  (*a)->rescore();
  std::string evidence;
  for (const auto& system : (*a)->knownSystems()) {
    for (const auto& e : (*a)->evidence().forSystem(system)) {
      evidence += e.key + "=" + e.value.toString() + " @ " + e.source.locator + "\n";
    }
  }
  std::string metrics = renderMetrics(**a);
  const std::string log_text = capture->text();
  capture.reset();

  EXPECT_NE(log_text.find("poll failed"), std::string::npos) << log_text;
  EXPECT_NE(errors.find("HTTP 401"), std::string::npos) << errors;
  std::vector<std::string> forbidden = kSecrets;
  forbidden.push_back(base64("ops@example.com:" + kSecrets[2]));
  for (const auto& secret : forbidden) {
    for (const auto& [what, text] : {std::pair{"logs", log_text}, {"errors", errors},
                                     {"evidence", evidence}, {"metrics", metrics}}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << what << ":\n" << text;
    }
  }
}

// A hostile source echoes the secrets it was sent in every form it can think of: as a system
// name in a 2xx answer (a token in a label), base64 "user:password" without its "Basic "
// prefix, a URL with a password, and a token placed where the error snippet is cut. None of it
// reaches the logs, the errors, the evidence, the metrics or the systems the agent scores.
TEST(Secrets, EchoedInAnyFormTheyAreRedactedAndNeverBecomeASystem) {
  const std::string token = "S3CRET-cmdb-token-echoed-8";
  const std::string password = "S3CRET-basic-pass-9";
  testing::FixtureServer cmdb([&](const agent::HttpRequest&) {
    return agent::HttpReply{200, "application/json",
                            "[{\"app\": \"payments\", \"owner\": \"http://admin:" + password +
                                "@wiki/x\"}, {\"app\": \"" + token + "\"}, {\"app\": \"" +
                                base64(token) + "\"}]"};
  });
  testing::FixtureServer failing([&](const agent::HttpRequest& r) {
    std::string auth = r.headers.count("authorization") ? r.headers.at("authorization") : "";
    std::string basic = auth.size() > 6 ? auth.substr(6) : auth;  // without "Basic "
    // The token straddles the snippet's 200-character cut.
    return agent::HttpReply{500, "text/plain",
                            std::string(190, 'x') + token + " creds " + basic + " url http://u:" +
                                password + "@h/"};
  });
  testing::TempDir dir;
  setenv("OPSM_SECRET_ECHO_CMDB", token.c_str(), 1);
  std::string config =
      "rules_dir: " + std::string(OPSM_SOURCE_DIR) + "/rules\n"
      "systems: [payments]\n"
      "collectors:\n"
      "  - {name: cmdb, type: rest_cmdb, url: " + cmdb.url() + "/cis, system: /app, "
      "required: [/owner], bearer_token_env: OPSM_SECRET_ECHO_CMDB}\n"
      "  - name: failing\n    type: rest_cmdb\n    url: " + failing.url() + "/cis\n"
      "    system: /app\n    basic_auth: {username: ops, password_file: " +
      dir.write("basic.pw", password + "\n") + "}\n";
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto cfg = agent::loadConfig(dir.write("agent.yml", config), registry);
  ASSERT_TRUE(cfg) << cfg.error().message;
  std::optional<LogCapture> capture(std::in_place, std::vector<std::string>{"agent", "collector"});
  auto a = agent::Agent::create(std::move(*cfg));
  ASSERT_TRUE(a) << a.error().message;
  std::string errors;
  for (const auto& outcome : (*a)->pollAll()) errors += outcome.collector + ": " + outcome.error + "\n";
  (*a)->rescore();
  std::string evidence, systems;
  for (const auto& system : (*a)->knownSystems()) {
    systems += system + "\n";
    for (const auto& e : (*a)->evidence().forSystem(system)) {
      evidence += e.key + "=" + e.value.toString() + " @ " + e.source.locator + "\n";
    }
  }
  std::string metrics = renderMetrics(**a);
  const std::string log_text = capture->text();
  capture.reset();

  EXPECT_EQ(systems, "payments\n") << "a secret became a system";
  EXPECT_NE(errors.find("HTTP 500"), std::string::npos) << errors;
  EXPECT_NE(log_text.find("holds a configured secret"), std::string::npos) << log_text;
  const std::vector<std::string> forbidden = {token, password, base64(token),
                                              base64("ops:" + password), token.substr(0, 5) + "ET-cmdb",
                                              "admin:S3"};
  for (const auto& secret : forbidden) {
    for (const auto& [what, text] : {std::pair{"logs", log_text}, {"errors", errors},
                                     {"evidence", evidence}, {"metrics", metrics}}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << what << ":\n" << text;
    }
  }
  // The cut did not leave the token's prefix: the snippet shows REDACTED, not "S3CRET-cm".
  EXPECT_EQ(errors.find("S3CRET-cm"), std::string::npos) << errors;
}

}  // namespace
}  // namespace opsm
