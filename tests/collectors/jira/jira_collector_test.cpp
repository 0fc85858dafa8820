// The Jira collector against a fixture server that speaks Jira's REST API as documented
// (Jira is not in Debian): Cloud's GET /rest/api/3/search/jql with nextPageToken/isLast
// pagination and Data Center's GET /rest/api/2/search with startAt/maxResults/total, basic
// auth (email + API token), 401 {"errorMessages": [...]}; plus every fault of
// tests/support/faults.h.
#include <gtest/gtest.h>

#include "tests/support/collect.h"
#include "tests/support/faults.h"
#include "tests/support/fixture_server.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using scorer::Value;
const std::string kApiToken = "ATATT3xFfGF0-jira-api-token";

std::string at(std::chrono::minutes from_base) {
  // Incidents happened two days ago; times in Jira's format.
  auto base = std::chrono::floor<std::chrono::minutes>(Clock::now() - std::chrono::hours(48));
  std::string t = formatTime(base + from_base);  // 2026-11-23T10:00:00Z
  return t.substr(0, 19) + ".000+0000";
}

// An incident: minutes after the base of each moment (-1: not set). `created` is when the
// ticket was filed, here always later than the incident (tickets filed after the fact).
std::string incident(const std::string& key, const std::string& system, int started, int detected,
                     int responded, int located, int resolved, int created = 90) {
  auto field = [](const char* name, int m) {
    return std::string(", \"") + name + "\": " + (m < 0 ? "null" : "\"" + at(std::chrono::minutes(m)) + "\"");
  };
  return "{\"id\": \"1\", \"key\": \"" + key + "\", \"fields\": {\"components\": [{\"name\": \"" +
         system + "\"}]" + field("customfield_10100", started) + field("customfield_10103", detected) +
         field("created", created) + field("customfield_10101", responded) +
         field("customfield_10102", located) + field("resolutiondate", resolved) + "}}";
}

std::string change(const std::string& key, const std::string& resolution,
                   const std::string& linked_incident = "") {
  std::string res = resolution.empty() ? "null" : "{\"name\": \"" + resolution + "\"}";
  std::string links = linked_incident.empty()
                          ? "[]"
                          : "[{\"id\": \"10001\", \"type\": {\"name\": \"Causes\", \"inward\": "
                            "\"is caused by\", \"outward\": \"causes\"}, \"outwardIssue\": {\"id\": "
                            "\"1\", \"key\": \"" + linked_incident + "\"}}]";
  return "{\"id\": \"2\", \"key\": \"" + key +
         "\", \"fields\": {\"components\": [{\"name\": \"payments\"}], \"created\": \"" +
         at(std::chrono::minutes(0)) + "\", \"resolution\": " + res + ", \"issuelinks\": " + links + "}}";
}

class JiraFixture {
 public:
  JiraFixture()
      : server_([this](const agent::HttpRequest& r) {
          return faults.apply(
              [&] { return serve(r); },
              R"({"errorMessages": ["You are not authenticated. Authentication required to perform this operation."], "errors": {}})");
        }) {}
  std::string url() const { return server_.url(); }
  std::vector<agent::HttpRequest> requests() const { return server_.requests(); }
  testing::FaultInjector faults;

 private:
  agent::HttpReply serve(const agent::HttpRequest& r) {
    // Basic auth: base64("ops@example.com:" + kApiToken).
    auto auth = r.headers.find("authorization");
    if (auth == r.headers.end() || auth->second.rfind("Basic ", 0) != 0) {
      return {401, "application/json",
              R"({"errorMessages": ["You are not authenticated."], "errors": {}})"};
    }
    std::vector<std::string> issues;
    if (r.target.find("INC") != std::string::npos) {
      issues = {incident("INC-1", "payments", 0, 2, 5, 6, 10),
                incident("INC-2", "payments", 0, 5, 12, -1, 30),
                incident("INC-3", "ledger", -1, 0, -1, -1, -1, 0),
                // filled in wrongly: responded and restored before it was detected
                incident("INC-4", "billing", 0, 20, 3, -1, 10)};
    } else if (r.target.find("CHG") != std::string::npos) {
      // CHG-2 was closed as Done but caused INC-2
      issues = {change("CHG-1", "Done"), change("CHG-2", "Done", "INC-2"),
                change("CHG-3", "Rolled Back"), change("CHG-4", "")};
    } else {
      return {400, "application/json",
              R"({"errorMessages": ["Error in the JQL Query: unknown project."], "errors": {}})"};
    }
    if (r.target.find("created%20%3E%3D%20-") == std::string::npos) {
      return {400, "application/json", R"({"errorMessages": ["expected a time window"]})"};
    }
    auto param = [&](const std::string& name) -> std::string {
      auto p = r.target.find(name + "=");
      if (p == std::string::npos) return "";
      auto e = r.target.find('&', p);
      return r.target.substr(p + name.size() + 1, e == std::string::npos ? std::string::npos : e - p - name.size() - 1);
    };
    size_t max = std::stoul(param("maxResults"));
    auto page = [&](size_t from) {
      std::string out;
      for (size_t i = from; i < std::min(issues.size(), from + max); ++i) {
        out += (out.empty() ? "" : ",") + issues[i];
      }
      return out;
    };
    if (r.path() == "/rest/api/3/search/jql") {
      std::string token = param("nextPageToken");
      size_t from = token.empty() ? 0 : std::stoul(token.substr(4));  // "page<N>"
      bool last = from + max >= issues.size();
      std::string body = "{\"issues\": [" + page(from) + "]" +
                         (last ? ", \"isLast\": true" : ", \"nextPageToken\": \"page" + std::to_string(from + max) + "\"") + "}";
      return {200, "application/json", body};
    }
    if (r.path() == "/rest/api/2/search") {
      size_t from = std::stoul(param("startAt"));
      return {200, "application/json",
              "{\"startAt\": " + std::to_string(from) + ", \"maxResults\": " + std::to_string(max) +
                  ", \"total\": " + std::to_string(issues.size()) + ", \"issues\": [" + page(from) + "]}"};
    }
    return {404, "application/json", R"({"errorMessages": ["not found"]})"};
  }
  testing::FixtureServer server_;
};

class JiraCollectorTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<collectors::Collector> make(const std::string& api) {
    std::string pw = dir_.write("jira-token", kApiToken + "\n");
    auto c = testing::buildCollector(
        "type: jira\napi: " + api + "\nurl: " + fixture_.url() +
        "\nbasic_auth: {username: ops@example.com, password_file: " + pw +
        "}\npage_size: 2\nincidents:\n  jql: project = INC\n  fields: {started: customfield_10100, "
        "detected: customfield_10103, responded: customfield_10101, located: customfield_10102}\n"
        "changes:\n  jql: project = CHG\n");
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }
  testing::TempDir dir_;
  JiraFixture fixture_;
};

TEST_P(JiraCollectorTest, IncidentTimesAgainstThe3_5_10TargetsAndChangeOutcomes) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  auto facts = testing::pollOnce(*c);
  ASSERT_TRUE(facts) << facts.error().message;
  auto num = [&](const std::string& s, const std::string& k) { return facts->at({s, k}).asNumber(); };
  EXPECT_EQ(num("payments", "incident.jira.incidents"), 2);
  EXPECT_EQ(num("payments", "incident.jira.resolved_ratio"), 1);
  EXPECT_EQ(num("payments", "incident.jira.detect_attainment_ratio"), 0.5);   // 2m ok, 5m late
  EXPECT_EQ(num("payments", "incident.jira.respond_attainment_ratio"), 0.5);  // 3m ok, 7m late
  // located is set on one incident of two: not most of them, so no ratio (its share is said)
  EXPECT_EQ(facts->count({"payments", "incident.jira.locate_attainment_ratio"}), 0u);
  EXPECT_EQ(num("payments", "incident.jira.locate_measured_ratio"), 0.5);
  EXPECT_EQ(num("payments", "incident.jira.restore_measured_ratio"), 1);
  EXPECT_EQ(num("payments", "incident.jira.restore_attainment_ratio"), 0.5);  // 8m ok, 25m late
  EXPECT_EQ(num("payments", "incident.jira.restore_seconds_mean"), (8 + 25) * 60 / 2.0);
  EXPECT_EQ(num("ledger", "incident.jira.incidents"), 1);
  EXPECT_EQ(num("ledger", "incident.jira.restore_attainment_ratio"), 0);  // open for two days
  // billing's times run backwards (responded and restored before detected): unknown, not met
  EXPECT_EQ(num("billing", "incident.jira.incidents"), 1);
  EXPECT_EQ(facts->count({"billing", "incident.jira.respond_attainment_ratio"}), 0u);
  EXPECT_EQ(facts->count({"billing", "incident.jira.restore_attainment_ratio"}), 0u);
  EXPECT_EQ(num("billing", "incident.jira.respond_measured_ratio"), 0);
  EXPECT_EQ(num("billing", "incident.jira.resolved_ratio"), 0);
  EXPECT_EQ(num("billing", "incident.jira.detect_attainment_ratio"), 0);  // 20m after it began
  // Any other system (crm): no incidents, the default; no ratio of none.
  EXPECT_EQ(facts->count({"crm", "incident.jira.incidents"}), 0u);
  EXPECT_EQ(num(scorer::kAnySystem, "incident.jira.incidents"), 0);
  EXPECT_EQ(num(scorer::kAnySystem, "change.jira.changes"), 0);
  EXPECT_EQ(facts->count({scorer::kAnySystem, "incident.jira.resolved_ratio"}), 0u);

  EXPECT_EQ(num("payments", "change.jira.changes"), 4);
  // CHG-3 rolled back, and CHG-2, closed as Done, caused INC-2
  EXPECT_EQ(num("payments", "change.jira.changes_failed"), 2);
  EXPECT_DOUBLE_EQ(num("payments", "change.jira.success_ratio"), 1.0 / 3);

  int searches = 0;
  for (const auto& r : fixture_.requests()) searches += r.target.find("INC") != std::string::npos;
  EXPECT_EQ(searches, 2);  // 4 incidents, 2 per page
}

TEST_P(JiraCollectorTest, EveryFaultIsAClearErrorWithoutTheToken) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  testing::expectFaultsHandled(*c, fixture_.faults, kApiToken);
}

// A project whose incident tickets are filed after the fact and record no detection time of
// their own: the ticket's `created` (90 minutes on) is not when anything happened, so no
// response, diagnosis or restore time is measured, and no ratio is claimed.
TEST_P(JiraCollectorTest, ABackFilledProjectWithoutADetectionFieldMeasuresNothing) {
  std::string pw = dir_.write("jira-token", kApiToken + "\n");
  auto c = testing::buildCollector(
      "type: jira\napi: " + GetParam() + "\nurl: " + fixture_.url() +
      "\nbasic_auth: {username: ops@example.com, password_file: " + pw +
      "}\nincidents:\n  jql: project = INC\n  fields: {responded: customfield_10101}\n"
      "changes:\n  jql: project = CHG\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "incident.jira.incidents"}).asNumber(), 2);
  for (const char* m : {"detect", "respond", "locate", "restore"}) {
    const std::string k = std::string("incident.jira.") + m;
    EXPECT_EQ(facts->count({"payments", k + "_attainment_ratio"}), 0u) << m;
    EXPECT_EQ(facts->at({"payments", k + "_measured_ratio"}).asNumber(), 0) << m;
  }
  EXPECT_EQ(facts->count({"payments", "incident.jira.restore_seconds_mean"}), 0u);
  EXPECT_EQ(facts->at({"payments", "incident.jira.resolved_ratio"}).asNumber(), 0);
}

INSTANTIATE_TEST_SUITE_P(Apis, JiraCollectorTest, ::testing::Values("cloud", "datacenter"));

TEST(JiraConfig, CreatedIsNoIncidentMomentAndSuccessNeedsIncidents) {
  auto c = testing::buildCollector(
      "type: jira\nurl: http://127.0.0.1:1\nincidents:\n  jql: project = INC\n"
      "  fields: {detected: created}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yml:5: field 'incidents.fields.detected'"),
            std::string::npos)
      << c.error().message;
  EXPECT_NE(c.error().message.find("when the ticket was filed"), std::string::npos);
}

TEST(JiraChanges, ResolutionNamesAloneDoNotShowSuccess) {
  JiraFixture fixture;
  testing::TempDir dir;
  std::string pw = dir.write("jira-token", kApiToken + "\n");
  auto c = testing::buildCollector("type: jira\nurl: " + fixture.url() +
                                   "\nbasic_auth: {username: ops@example.com, password_file: " + pw +
                                   "}\nchanges:\n  jql: project = CHG\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "change.jira.changes"}).asNumber(), 4);
  EXPECT_EQ(facts->count({"payments", "change.jira.success_ratio"}), 0u)
      << "without incidents to link, a change closed as Done may have broken production";
}

TEST(JiraConfig, OrderByAndUnknownKeysAreRejectedWithTheirLine) {
  auto c = testing::buildCollector(
      "type: jira\nurl: http://127.0.0.1:1\nincidents:\n  jql: project = INC ORDER BY created\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yml:4: field 'incidents.jql'"), std::string::npos)
      << c.error().message;
  c = testing::buildCollector(
      "type: jira\nurl: http://127.0.0.1:1\nincidents:\n  jql: x\n  targets: {detect: 3}\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("detect"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace opsm
