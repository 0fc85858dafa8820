// The CI outputs of `opsmaturity once`: JUnit XML and CSV, one test case / row per criterion
// and system, with waived and not-applicable criteria told apart from failures; and the JSON's
// schema_version.
#include "tests/support/requests.h"
#include "agent/cli/output.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "agent/exposition/api.h"
#include "agent/exposition/routes.h"

#include "tests/support/drill_pack.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

class OutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    // 6.7.4/L1/1 passes on the drill plugin's evidence (a report an hour old); a second
    // system, ledger, has a report two years old: that criterion fails for it.
    dir_.write("facts.json",
               "{\"facts\": [{\"system\": \"payments\", \"key\": "
               "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}, {\"system\": "
               "\"ledger & <co>\", \"key\": \"plugin.drill.last_report_age_seconds\", \"value\": "
               "63072000}]}");
    auto config = loadConfig(
        dir_.write("agent.yml", "rules_dir: " + testing::drillRulePack(dir_) +
                                    "\nstorage_path: state.db\n"
                                    "systems: [payments, \"ledger & <co>\"]\n"
                                    "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                                    (dir_.path() / "facts.json").string() + "]}\n"),
        registry_);
    ASSERT_TRUE(config) << config.error().message;
    auto a = Agent::create(std::move(*config));
    ASSERT_TRUE(a) << a.error().message;
    agent_ = std::move(*a);
    agent_->pollAll();
    // payments' 6.7.4/L1/2 (an attestation nobody gave) is waived.
    Principal li{"li.wei", Role::kAttester}, wang{"wang.fang", Role::kApprover};
    auto w = testing::askWaiver(*agent_, 
        "{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": \"crisis "
        "team being formed\", \"risk\": \"low\", \"expires\": \"" +
            formatTime(Clock::now() + std::chrono::hours(24 * 30)).substr(0, 10) + "\"}",
        li);
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE(agent_->decideWaiver(w->id, Ledger::Decision::kApprove, wang, ""));
    agent_->rescore();
  }
  collectors::Registry registry_;
  testing::TempDir dir_;
  std::unique_ptr<Agent> agent_;
};

// The element of `xml` that starts with `start` up to its end (the test case of a criterion).
std::string element(const std::string& xml, const std::string& start) {
  auto at = xml.find(start);
  if (at == std::string::npos) return "";
  return xml.substr(at, xml.find("</testcase>", at) - at);
}

TEST_F(OutputTest, JunitHasATestCasePerCriterionAndSystem) {
  const std::string x = renderJunit(*agent_);
  EXPECT_EQ(x.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 0), 0u);
  // The system name is escaped.
  EXPECT_NE(x.find("<testsuite name=\"payments\""), std::string::npos);
  EXPECT_NE(x.find("<testsuite name=\"ledger &amp; &lt;co&gt;\""), std::string::npos);
  EXPECT_EQ(x.find("<co>"), std::string::npos);
  // One test case per criterion and system.
  size_t cases = 0;
  for (size_t p = 0; (p = x.find("<testcase ", p)) != std::string::npos; ++p) ++cases;
  size_t criteria = 0;
  for (const auto& item : agent_->rules()->items) {
    for (const auto& l : item.levels) criteria += l.criteria.size();
  }
  EXPECT_EQ(cases, 2 * criteria);
  // Passed: an empty test case; waived: skipped, saying so; failed: a failure.
  EXPECT_EQ(element(x, "<testcase classname=\"payments.6.7.4\" name=\"6.7.4/L1/1 "),
            element(x, "<testcase classname=\"payments.6.7.4\" name=\"6.7.4/L1/1 ")
                .substr(0, element(x, "<testcase classname=\"payments.6.7.4\" name=\"6.7.4/L1/1 ")
                               .find('>') + 1));
  EXPECT_NE(element(x, "<testcase classname=\"payments.6.7.4\" name=\"6.7.4/L1/2 ")
                .find("<skipped message=\"waived (unknown)"),
            std::string::npos);
  EXPECT_NE(element(x, "<testcase classname=\"ledger &amp; &lt;co&gt;.6.7.4\" name=\"6.7.4/L1/1 ")
                .find("<failure message=\"plugin.drill.last_report_age_seconds = 63072000"),
            std::string::npos)
      << element(x, "<testcase classname=\"ledger &amp; &lt;co&gt;.6.7.4\" name=\"6.7.4/L1/1 ");
  EXPECT_NE(x.find("<property name=\"level_with_waivers\""), std::string::npos);
}

TEST_F(OutputTest, CsvHasARowPerCriterionAndSystemQuotedAsRfc4180Says) {
  const std::string csv = renderCsv(*agent_);
  EXPECT_EQ(csv.rfind("system,system_level,domain,item,item_level,criterion,criterion_level,"
                      "state,waived,evidenced_by,reason\r\n",
                      0),
            0u);
  // Strictly the item is at level 0: 6.7.4/L1/2 is only waived.
  EXPECT_NE(csv.find("\r\npayments,0.00,6.7,6.7.4,0,6.7.4/L1/1,1,pass,false,collectors,"),
            std::string::npos);
  EXPECT_NE(csv.find("payments,0.00,6.7,6.7.4,0,6.7.4/L1/2,1,unknown,true,attestation,"),
            std::string::npos);
  EXPECT_NE(csv.find("\r\nledger & <co>,"), std::string::npos);
  // A reason with a comma or quote is quoted, its quotes doubled.
  EXPECT_NE(csv.find(",\"no evidence"), std::string::npos);
}

TEST_F(OutputTest, JsonCarriesTheSchemaVersionAndTheLevelWithWaivers) {
  const std::string j = renderJson(*agent_, {});
  EXPECT_NE(j.find("\"schema_version\": " + std::to_string(scorer::json::kSchemaVersion)),
            std::string::npos);
  EXPECT_NE(j.find("\"level_with_waivers\": 1"), std::string::npos);
  EXPECT_NE(j.find("\"waived\": true"), std::string::npos);
}

// Evidence has one shape in every output (scorer/json.h): the API's view of a system, `once
// --json` and `evidence export` give the same object for the same piece of evidence.
TEST_F(OutputTest, EvidenceHasOneShapeInTheApiOnceJsonAndTheExport) {
  const std::string key = "plugin.drill.last_report_age_seconds";
  auto find = [&](const rapidjson::Value& list) -> const rapidjson::Value* {
    for (const auto& e : list.GetArray()) {
      if (e.IsObject() && e.HasMember("key") && e["key"] == key.c_str()) return &e;
    }
    return nullptr;
  };
  rapidjson::Document once;
  once.Parse(renderJson(*agent_, {}).c_str());
  ASSERT_FALSE(once.HasParseError());
  const rapidjson::Value* from_once = nullptr;
  for (const auto& s : once["systems"].GetArray()) {
    if (s["system"] == "payments") from_once = find(s["evidence"]);
  }
  auto reply = std::optional<HttpReply>(route(*agent_, HttpRequest{"GET", "/api/v1/systems/payments", {}, ""}));
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->status, 200) << reply->body;
  rapidjson::Document api;
  api.Parse(reply->body.c_str());
  ASSERT_FALSE(api.HasParseError());
  const rapidjson::Value* from_api = nullptr;
  for (const auto& item : api["items"].GetArray()) {
    for (const auto& c : item["criteria"].GetArray()) {
      if (c["id"] == "6.7.4/L1/1") from_api = find(c["evidence"]);
    }
  }
  auto exported = agent_->durableStore()->exportSystem("payments", {}, agent_->now());
  ASSERT_TRUE(exported) << exported.error().message;
  rapidjson::Document doc;
  doc.Parse(exported->c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_EQ(doc["schema_version"].GetInt(), scorer::json::kSchemaVersion);
  const rapidjson::Value* from_export = find(doc["evidence"]);
  ASSERT_TRUE(from_once && from_api && from_export);
  EXPECT_TRUE(*from_once == *from_api) << "once --json and the API differ";
  EXPECT_TRUE(*from_once == *from_export) << "once --json and the export differ";
  EXPECT_EQ(std::string((*from_once)["collector"].GetString()), "drills");
  EXPECT_TRUE((*from_once)["observed_at"].IsString());  // RFC 3339, not Unix seconds
  EXPECT_FALSE((*from_once)["expired"].GetBool());
}

}  // namespace
}  // namespace opsm::agent
