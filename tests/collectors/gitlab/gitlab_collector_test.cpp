// The GitLab collector against a fixture server that speaks GitLab's REST API v4 as documented
// (GitLab is not in Debian): project paths URL-encoded as ids, page/per_page pagination with
// X-Next-Page, X-Page, X-Total and Link headers, 401 {"message": "401 Unauthorized"}; plus
// every fault of tests/support/faults.h.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/collect.h"
#include "tests/support/faults.h"
#include "tests/support/fixture_server.h"

namespace opsm {
namespace {

using scorer::Value;
const std::string kToken = "glpat-test-0123456789";

std::string deployment(int id, const std::string& sha, const std::string& status,
                       std::chrono::seconds ago) {
  std::string at = formatTime(Clock::now() - ago);
  // the deployed commit was committed two hours before (its id's hours more for id 3)
  std::string committed = formatTime(Clock::now() - ago - std::chrono::hours(id == 3 ? 5 : 2));
  return "{\"id\": " + std::to_string(id) + ", \"iid\": " + std::to_string(id) +
         ", \"ref\": \"main\", \"sha\": \"" + sha + "\", \"status\": \"" + status +
         "\", \"created_at\": \"" + at + "\", \"updated_at\": \"" + at +
         "\", \"environment\": {\"id\": 1, \"name\": \"production\"}, \"user\": {\"username\": \"ops\"}" +
         ", \"deployable\": {\"id\": " + std::to_string(100 + id) + ", \"status\": \"" + status +
         "\", \"commit\": {\"id\": \"" + sha + "\", \"created_at\": \"" + committed +
         "\", \"committed_date\": \"" + committed + "\"}}}";
}

class GitlabFixture {
 public:
  GitlabFixture()
      : server_([this](const agent::HttpRequest& r) {
          return faults.apply([&] { return serve(r); }, R"({"message": "401 Unauthorized"})");
        }) {
    using std::chrono::hours;
    auto h = [](int n) { return std::chrono::duration_cast<std::chrono::seconds>(hours(n)); };
    deployments_ = {deployment(1, "aaa", "success", h(40 * 24)),  // outside the 30d window
                    deployment(2, "aaa", "success", h(10 * 24)),
                    deployment(3, "bbb", "success", h(8 * 24)),
                    deployment(4, "ccc", "failed", h(7 * 24)),
                    deployment(5, "aaa", "success", h(6 * 24)),  // back to aaa: a rollback
                    deployment(6, "ddd", "running", h(1 * 24)),
                    deployment(7, "ddd", "success", h(1))};
  }
  std::string url() const { return server_.url(); }
  void add(std::string d) {
    std::lock_guard lock(mu_);
    deployments_.push_back(std::move(d));
  }
  testing::FaultInjector faults;

 private:
  agent::HttpReply serve(const agent::HttpRequest& r) {
    auto auth = r.headers.find("authorization");
    if (auth == r.headers.end() || auth->second != "Bearer " + kToken) {
      return {401, "application/json", R"({"message": "401 Unauthorized"})"};
    }
    std::lock_guard lock(mu_);
    std::vector<std::string> items;
    if (r.path() == "/api/v4/projects/group%2Fpayments/deployments") {
      if (r.target.find("environment=production") == std::string::npos) {
        return {400, "application/json", R"({"error": "environment is missing"})"};
      }
      items = deployments_;
    } else if (r.path() == "/api/v4/projects/group%2Fpayments/environments") {
      items = {R"({"id": 1, "name": "production", "tier": "production", "state": "available"})",
               R"({"id": 2, "name": "staging", "tier": "staging", "state": "available"})",
               R"({"id": 3, "name": "review/x", "tier": "development", "state": "stopped"})"};
    } else {
      return {404, "application/json", R"({"message": "404 Project Not Found"})"};
    }
    auto param = [&](const std::string& name, size_t fallback) {
      for (const char* sep : {"?", "&"}) {
        auto p = r.target.find(sep + name + "=");
        if (p != std::string::npos) return std::stoul(r.target.substr(p + name.size() + 2));
      }
      return fallback;
    };
    size_t per_page = param("per_page", 20), page = param("page", 1);
    std::string body;
    for (size_t i = (page - 1) * per_page; i < std::min(items.size(), page * per_page); ++i) {
      body += (body.empty() ? "" : ",") + items[i];
    }
    size_t pages = (items.size() + per_page - 1) / per_page;
    std::string next = page < pages ? std::to_string(page + 1) : "";
    std::map<std::string, std::string> headers{{"X-Page", std::to_string(page)},
                                               {"X-Per-Page", std::to_string(per_page)},
                                               {"X-Total", std::to_string(items.size())},
                                               {"X-Total-Pages", std::to_string(pages)},
                                               {"X-Next-Page", next}};
    if (!next.empty()) headers["Link"] = "<" + server_.url() + r.path() + "?page=" + next + ">; rel=\"next\"";
    return {200, "application/json", "[" + body + "]", headers};
  }

  std::mutex mu_;
  std::vector<std::string> deployments_;
  testing::FixtureServer server_;
};

class GitlabCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("OPSM_TEST_GITLAB_TOKEN", kToken.c_str(), 1);
    auto c = testing::buildCollector("type: gitlab\nurl: " + fixture_.url() +
                                     "\ntoken_env: OPSM_TEST_GITLAB_TOKEN\npage_size: 2\n"
                                     "projects: {group/payments: payments}\n");
    ASSERT_TRUE(c) << c.error().message;
    collector_ = std::move(*c);
  }
  GitlabFixture fixture_;
  std::unique_ptr<collectors::Collector> collector_;
};

TEST_F(GitlabCollectorTest, DeploymentsFailuresAndRollbacksAcrossPages) {
  auto facts = testing::pollOnce(*collector_);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "change.gitlab.deployments"}), Value(5));
  EXPECT_EQ(facts->at({"payments", "change.gitlab.deployments_failed"}), Value(1));
  EXPECT_EQ(facts->at({"payments", "change.gitlab.rollbacks"}), Value(1));
  EXPECT_DOUBLE_EQ(facts->at({"payments", "change.gitlab.change_failure_ratio"}).asNumber(), 0.2);
  EXPECT_DOUBLE_EQ(facts->at({"payments", "change.gitlab.deployments_per_day"}).asNumber(), 4.0 / 30);
  // lead times of the four successful deployments: 2h, 5h, 2h, 2h (the failed one has none)
  EXPECT_NEAR(facts->at({"payments", "change.gitlab.lead_time_seconds_median"}).asNumber(), 7200, 2);
  EXPECT_NEAR(facts->at({"payments", "change.gitlab.last_deployment_age_seconds"}).asNumber(), 3600, 60);
  EXPECT_EQ(facts->at({"payments", "change.gitlab.environment_tiers"}),
            Value(scorer::StringList{"production", "staging"}));

  fixture_.add(deployment(8, "eee", "failed", std::chrono::seconds(60)));
  facts = testing::pollOnce(*collector_);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "change.gitlab.deployments_failed"}), Value(2));
  EXPECT_DOUBLE_EQ(facts->at({"payments", "change.gitlab.change_failure_ratio"}).asNumber(), 2.0 / 6);
}

TEST_F(GitlabCollectorTest, UnknownProjectIsAClearError) {
  auto c = testing::buildCollector("type: gitlab\nurl: " + fixture_.url() +
                                   "\ntoken_env: OPSM_TEST_GITLAB_TOKEN\nprojects: {group/nope: x}\n");
  ASSERT_TRUE(c);
  auto facts = testing::pollOnce(**c);
  ASSERT_FALSE(facts);
  EXPECT_NE(facts.error().message.find("HTTP 404"), std::string::npos) << facts.error().message;
  EXPECT_NE(facts.error().message.find("Project Not Found"), std::string::npos);
}

TEST_F(GitlabCollectorTest, EveryFaultIsAClearErrorWithoutTheToken) {
  testing::expectFaultsHandled(*collector_, fixture_.faults, kToken);
}

TEST(GitlabConfig, ProjectsAreRequiredAndTheTokenComesFromAFileOrTheEnvironment) {
  auto c = testing::buildCollector("type: gitlab\nurl: http://127.0.0.1:1\ntoken_env: X\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("field 'projects'"), std::string::npos) << c.error().message;
  c = testing::buildCollector("type: gitlab\nurl: http://127.0.0.1:1\nprojects: {a/b: b}\ntoken: abc\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("field 'token'"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace opsm
