// The generic REST CMDB collector against a fixture server shaped like a typical in-house
// CMDB API ({"data": [...], "links": {"next": "/api/cis?page=2"}}), plus every fault.
#include <gtest/gtest.h>

#include "tests/support/collect.h"
#include "tests/support/faults.h"
#include "tests/support/fixture_server.h"

namespace opsm {
namespace {

using scorer::Value;

class RestCmdbTest : public ::testing::Test {
 protected:
  RestCmdbTest()
      : server_([this](const agent::HttpRequest& r) {
          return faults_.apply([&] { return serve(r); }, R"({"error": "unauthorized"})");
        }) {}

  agent::HttpReply serve(const agent::HttpRequest& r) {
    if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != "Bearer cmdb-secret-1") {
      return {401, "application/json", R"({"error": "unauthorized"})"};
    }
    if (r.target == "/api/cis") {
      return {200, "application/json",
              R"({"data": [{"app": {"code": "payments"}, "owner": "li", "ip": "10.0.0.1", "depends_on": ["db-1"], "is_db": true, "runtime": "vm"},
                           {"app": {"code": "payments"}, "owner": "", "ip": "10.0.0.2", "depends_on": [], "is_db": false, "runtime": "container"}],
                  "links": {"next": "/api/cis?page=2"}})"};
    }
    if (r.target == "/api/cis?page=2") {
      return {200, "application/json",
              R"({"data": [{"app": {"code": "ledger"}, "owner": "wang", "ip": "10.0.1.1", "depends_on": null, "is_db": false, "runtime": "mainframe"},
                           {"app": null, "owner": "x"}],
                  "links": {"next": null}})"};
    }
    return {404, "application/json", R"({"error": "not found"})"};
  }

  testing::FaultInjector faults_;
  testing::FixtureServer server_;
};

TEST_F(RestCmdbTest, PointersFindSystemsCompletenessAndRelationsAcrossPages) {
  setenv("OPSM_TEST_CMDB_TOKEN", "cmdb-secret-1", 1);
  auto c = testing::buildCollector("type: rest_cmdb\nurl: " + server_.url() +
                                   "/api/cis\nitems: /data\nnext: /links/next\nsystem: /app/code\n"
                                   "required: [/owner, /ip]\nrelated: [/depends_on]\n"
                                   "bearer_token_env: OPSM_TEST_CMDB_TOKEN\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "cmdb.rest.cis"}), Value(2));
  EXPECT_EQ(facts->at({"payments", "cmdb.rest.ci_complete_ratio"}), Value(0.5));
  EXPECT_EQ(facts->at({"payments", "cmdb.rest.ci_related_ratio"}), Value(0.5));
  EXPECT_EQ(facts->at({"ledger", "cmdb.rest.ci_complete_ratio"}), Value(1));
  EXPECT_EQ(facts->at({"ledger", "cmdb.rest.ci_related_ratio"}), Value(0));
  EXPECT_EQ(facts->size(), 6u);

  testing::expectFaultsHandled(**c, faults_, "cmdb-secret-1");
}

// The system profile from the CIs: a database CI makes the system one with a database; CIs
// that all say false declare it without one; a field nobody fills declares nothing.
TEST_F(RestCmdbTest, CiFieldsGiveTheSystemProfile) {
  setenv("OPSM_TEST_CMDB_TOKEN", "cmdb-secret-1", 1);
  auto c = testing::buildCollector("type: rest_cmdb\nurl: " + server_.url() +
                                   "/api/cis\nitems: /data\nnext: /links/next\nsystem: /app/code\n"
                                   "profile: {has_database: /is_db, runtime: /runtime, frontend: /ui}\n"
                                   "bearer_token_env: OPSM_TEST_CMDB_TOKEN\n");
  ASSERT_TRUE(c) << c.error().message;
  auto facts = testing::pollOnce(**c);
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_EQ(facts->at({"payments", "system.has_database"}), Value(true));
  EXPECT_EQ(facts->at({"payments", "system.runtime"}), Value("vm"));
  EXPECT_EQ(facts->at({"ledger", "system.has_database"}), Value(false));
  EXPECT_EQ(facts->count({"ledger", "system.runtime"}), 0u);
  EXPECT_EQ(facts->count({"payments", "system.frontend"}), 0u);
  auto bad = testing::buildCollector("type: rest_cmdb\nurl: http://127.0.0.1:1/\nsystem: /app/code\n"
                                     "profile: {cache: /c}\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'cache' is not frontend"), std::string::npos);
}

TEST_F(RestCmdbTest, BadPointersAreConfigErrors) {
  auto c = testing::buildCollector("type: rest_cmdb\nurl: http://127.0.0.1:1/\nsystem: app.code\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("agent.yml:3: field 'system'"), std::string::npos)
      << c.error().message;
}

}  // namespace
}  // namespace opsm
