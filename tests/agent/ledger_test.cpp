// Attestations with approval, waivers, users and roles, and the audit log, through the HTTP
// API of a running daemon with a tokens file and require_approval: who may do what, what
// counts toward the level when, what is kept across a restart, and what the audit log says.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include <rapidjson/document.h>

#include "agent/core/agent.h"
#include "agent/core/auth.h"
#include "agent/daemon/daemon.h"
#include "collectors/common/http_client.h"
#include "common/hash.h"
#include "tests/support/drill_pack.h"
#include "tests/support/fixture_server.h"
#include "tests/support/running_agent.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

namespace fs = std::filesystem;

// One token per person; the file holds only their SHA-256s.
const std::map<std::string, std::pair<std::string, std::string>> kPeople = {
    {"vic", {"viewer", "token-of-vic-the-viewer-0001"}},
    {"li.wei", {"attester", "token-of-li-wei-attester-002"}},
    {"wang.fang", {"approver", "token-of-wang-fang-approver-3"}},
    {"zhao.min", {"approver", "token-of-zhao-min-approver-04"}},
    {"root", {"admin", "token-of-root-the-admin-00005"}},
};

std::string tokensFile() {
  std::string out = "tokens:\n";
  for (const auto& [name, rt] : kPeople) {
    out += "  - {name: " + name + ", role: " + rt.first + ", sha256: " + sha256Hex(rt.second) +
           "}\n";
  }
  return out;
}

std::string today(int days_ago = 0) {
  return formatTime(Clock::now() - std::chrono::hours(24 * days_ago)).substr(0, 10);
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // In the drill pack, 6.7.4/L1/1 passes on the plugin's evidence; 6.7.4/L1/2 needs an
    // attestation, so item 6.7.4 is at level 1 exactly when that attestation counts.
    testing::drillRulePack(dir_);
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}]}");
    dir_.write("tokens.yml", tokensFile());
    dir_.write("docs/crisis-org.md", "# 应急组织\nOn-call: Li Wei, Wang Fang\n");
    start();
  }
  void TearDown() override { stop(); }

  void start() {
    std::string error;
    running_ = testing::RunningAgent::start(
        dir_.write("agent.yml",
                   "listen_address: 127.0.0.1:0\nrules_dir: rules\ntokens_file: tokens.yml\n"
                   "require_approval: true\nstorage_path: state.db\n"
                   "document_roots: [docs]\ndocument_hosts: [127.0.0.1]\nsystems: [payments, ledger]\n"
                   "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                       (dir_.path() / "facts.json").string() + "]}\n"),
        &error);
    ASSERT_TRUE(running_) << error;
    agent_ = &running_->agent();
    base_ = running_->base();
  }
  void stop() {
    agent_ = nullptr;
    running_.reset();
  }

  // POSTs as `who` (empty: no token); returns the status and the body (or error message).
  std::pair<long, std::string> post(const std::string& who, const std::string& path,
                                    const std::string& body) {
    collectors::HttpOptions o;
    if (!who.empty()) o.bearer_token = kPeople.at(who).second;
    o.max_retries = 0;
    auto r = collectors::HttpClient(o).post(base_ + path, body, "application/json",
                                            std::chrono::seconds(10));
    if (r) return {r->status, r->body};
    const std::string& m = r.error().message;
    auto at = m.find("HTTP ");
    long status = at == std::string::npos ? 0 : std::stol(m.substr(at + 5, 3));
    return {status, m};
  }
  rapidjson::Document getJson(const std::string& path) {
    auto r = client_.get(base_ + path, std::chrono::seconds(10));
    rapidjson::Document d;
    if (r) d.Parse(r->body.c_str());
    return d;
  }
  // The item's strict level and level with waivers on the system page.
  std::pair<int, int> levels(const std::string& item, const std::string& system = "payments") {
    auto d = getJson("/api/v1/systems/" + system);
    for (const auto& i : d["items"].GetArray()) {
      if (std::string(i["item"].GetString()) == item) {
        return {i["level"].GetInt(), i["level_with_waivers"].GetInt()};
      }
    }
    return {-1, -1};
  }
  int64_t idOf(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (d.HasMember("attestations")) return d["attestations"][0]["id"].GetInt64();
    return d.HasMember("id") ? d["id"].GetInt64() : 0;
  }
  std::string attestation(const std::string& document =
                              "https://wiki.example.com/crisis-org") {
    return "{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"document\": \"" +
           document + "\", \"comment\": \"reviewed with the team\", \"date\": \"" + today(1) +
           "\"}";
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::RunningAgent> running_;
  Agent* agent_ = nullptr;
  std::string base_;
  collectors::HttpClient client_{collectors::HttpOptions{}};
};

TEST_F(LedgerTest, AnAttestationCountsOnlyOnceSomeoneElseApprovesIt) {
  // A viewer may not attest; no token is 401.
  EXPECT_EQ(post("", "/api/v1/attestations", attestation()).first, 401);
  auto viewer = post("vic", "/api/v1/attestations", attestation());
  EXPECT_EQ(viewer.first, 403);
  EXPECT_NE(viewer.second.find("vic (viewer) may not do this"), std::string::npos)
      << viewer.second;
  // attested_by is the token's holder: nobody attests in someone else's name.
  auto other = post("li.wei", "/api/v1/attestations",
                    "{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"document\": "
                    "\"d\", \"date\": \"" + today(1) + "\", \"attested_by\": \"wang.fang\"}");
  EXPECT_EQ(other.first, 400);
  EXPECT_NE(other.second.find("made by the token's holder (li.wei)"), std::string::npos);

  auto made = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(made.first, 201) << made.second;
  const int64_t id = idOf(made.second);
  ASSERT_GT(id, 0);
  EXPECT_NE(made.second.find("\"attested_by\":\"li.wei\""), std::string::npos);
  EXPECT_NE(made.second.find("\"state\":\"pending\""), std::string::npos);
  // Pending: with require_approval it does not count.
  EXPECT_EQ(levels("6.7.4").first, 0);

  const std::string approve = "/api/v1/attestations/" + std::to_string(id) + "/approve";
  auto by_attester = post("li.wei", approve, "");
  EXPECT_EQ(by_attester.first, 403);
  EXPECT_NE(by_attester.second.find("needs the approver role"), std::string::npos);
  // An approver may not approve their own.
  auto own = post("wang.fang", "/api/v1/attestations", attestation());
  ASSERT_EQ(own.first, 201);
  auto self = post("wang.fang",
                   "/api/v1/attestations/" + std::to_string(idOf(own.second)) + "/approve", "");
  EXPECT_EQ(self.first, 403);
  EXPECT_NE(self.second.find("their own attestation"), std::string::npos) << self.second;

  auto ok = post("wang.fang", approve, "{\"comment\": \"org chart checked\"}");
  ASSERT_EQ(ok.first, 200) << ok.second;
  EXPECT_NE(ok.second.find("\"approved_by\":\"wang.fang\""), std::string::npos);
  EXPECT_NE(ok.second.find("\"counts\":true"), std::string::npos);
  EXPECT_EQ(levels("6.7.4").first, 1);
  // Decided once: approving or rejecting again is a conflict.
  EXPECT_EQ(post("zhao.min", approve, "").first, 409);
  EXPECT_EQ(post("zhao.min", "/api/v1/attestations/" + std::to_string(id) + "/reject", "").first,
            409);
  EXPECT_EQ(post("wang.fang", "/api/v1/attestations/999/approve", "").first, 404);
  EXPECT_EQ(post("wang.fang", "/api/v1/attestations/" + std::to_string(id) + "/bless", "").first,
            404);

  // The list filters; the system page shows it on its criterion.
  auto list = getJson("/api/v1/attestations?system=payments&state=approved");
  ASSERT_TRUE(list.HasMember("attestations"));
  ASSERT_EQ(list["attestations"].Size(), 1u);
  EXPECT_EQ(list["attestations"][0]["id"].GetInt64(), id);
  EXPECT_EQ(getJson("/api/v1/attestations?state=pending")["attestations"].Size(), 1u);
  EXPECT_EQ(getJson("/api/v1/attestations?criterion=6.7.4%2FL1%2F2")["attestations"].Size(), 2u);
  EXPECT_EQ(getJson("/api/v1/attestations?system=ledger")["attestations"].Size(), 0u);

  // Revoking: not by another attester; by its author. It stays in the history.
  const std::string revoke = "/api/v1/attestations/" + std::to_string(id) + "/revoke";
  auto stranger = post("vic", revoke, "");
  EXPECT_EQ(stranger.first, 403);
  auto revoked = post("li.wei", revoke, "{\"comment\": \"the plan is being rewritten\"}");
  ASSERT_EQ(revoked.first, 200) << revoked.second;
  EXPECT_EQ(levels("6.7.4").first, 0);
  auto history = getJson("/api/v1/attestations?state=revoked");
  ASSERT_EQ(history["attestations"].Size(), 1u);
  EXPECT_STREQ(history["attestations"][0]["decided_by"].GetString(), "li.wei");
  EXPECT_EQ(post("li.wei", revoke, "").first, 409);
}

TEST_F(LedgerTest, ApprovingANewerAttestationSupersedesTheOlderOne) {
  auto first = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(first.first, 201);
  ASSERT_EQ(post("wang.fang",
                 "/api/v1/attestations/" + std::to_string(idOf(first.second)) + "/approve", "")
                .first,
            200);
  // A newer one pending does not take the level away meanwhile.
  auto second = post("li.wei", "/api/v1/attestations", attestation("https://wiki/v2"));
  ASSERT_EQ(second.first, 201);
  EXPECT_EQ(levels("6.7.4").first, 1);
  auto rejected = post("zhao.min",
                       "/api/v1/attestations/" + std::to_string(idOf(second.second)) + "/reject",
                       "{\"comment\": \"link is wrong\"}");
  ASSERT_EQ(rejected.first, 200);
  EXPECT_EQ(levels("6.7.4").first, 1);
  auto third = post("li.wei", "/api/v1/attestations", attestation("https://wiki/v3"));
  ASSERT_EQ(post("zhao.min",
                 "/api/v1/attestations/" + std::to_string(idOf(third.second)) + "/approve", "")
                .first,
            200);
  auto old = getJson("/api/v1/attestations/" + std::to_string(idOf(first.second)));
  EXPECT_STREQ(old["state"].GetString(), "superseded");
  EXPECT_EQ(getJson("/api/v1/attestations?state=approved")["attestations"].Size(), 1u);
  EXPECT_EQ(levels("6.7.4").first, 1);
  // The evidence names the approver.
  auto s = getJson("/api/v1/evidence?system=payments");
  bool found = false;
  for (const auto& e : s["evidence"].GetArray()) {
    std::string loc = e["evidence"]["locator"].GetString();
    if (loc.find("attestation #" + std::to_string(idOf(third.second)) +
                 " by li.wei, approved by zhao.min: https://wiki/v3") != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(LedgerTest, AWaiverRaisesTheLevelWithWaiversOnlyAndLapsesWhenRevoked) {
  const std::string waiver =
      "{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": \"the crisis "
      "team is being reorganised until Q1\", \"risk\": \"medium\", \"expires\": \"" +
      formatTime(Clock::now() + std::chrono::hours(24 * 30)).substr(0, 10) + "\"}";
  // Bad requests name the field.
  for (const auto& [body, expect] : std::vector<std::pair<std::string, std::string>>{
           {"{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": "
            "\"long enough text\", \"risk\": \"huge\", \"expires\": \"2099-01-01\"}",
            "risk"},
           {"{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": "
            "\"long enough text\", \"risk\": \"low\"}",
            "a waiver always ends"},
           {"{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": "
            "\"long enough text\", \"risk\": \"low\", \"expires\": \"2099-01-01\"}",
            "more than a year away"},
           {"{\"system\": \"payments\", \"criterion\": \"9.9.9/L1/1\", \"justification\": "
            "\"long enough text\", \"risk\": \"low\", \"expires\": \"" + today(-10) + "\"}",
            "no criterion 9.9.9/L1/1"},
           {"{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": "
            "\"long enough text\", \"risk\": \"low\", \"expires\": \"" + today(-10) +
                "\", \"approver\": \"me\"}",
            "approver"},
       }) {
    auto r = post("li.wei", "/api/v1/waivers", body);
    EXPECT_EQ(r.first, 400) << body;
    EXPECT_NE(r.second.find(expect), std::string::npos) << expect << " <- " << r.second;
  }
  auto asked = post("li.wei", "/api/v1/waivers", waiver);
  ASSERT_EQ(asked.first, 201) << asked.second;
  const std::string id = std::to_string(idOf(asked.second));
  {
    // The answer comes once a snapshot that holds the waiver is published, and names it: the
    // pending waiver is on /metrics from that generation on, as in the API.
    rapidjson::Document d;
    d.Parse(asked.second.c_str());
    ASSERT_TRUE(d.HasMember("generation")) << asked.second;
    const int64_t generation = d["generation"].GetInt64();
    auto metrics = client_.get(base_ + "/metrics", std::chrono::seconds(5));
    ASSERT_TRUE(metrics);
    EXPECT_NE(metrics->body.find("opsmaturity_waivers{state=\"pending\"} 1\n"), std::string::npos)
        << metrics->body;
    const std::string series = "\nopsmaturity_snapshot_generation ";
    const auto at = metrics->body.find(series);
    ASSERT_NE(at, std::string::npos);
    EXPECT_GE(std::stoll(metrics->body.substr(at + series.size())), generation);
    auto listed = getJson("/api/v1/waivers?state=pending");
    ASSERT_TRUE(listed.HasMember("generation"));
    EXPECT_GE(listed["generation"].GetInt64(), generation);
    EXPECT_EQ(listed["waivers"].Size(), 1u);
  }
  EXPECT_EQ(levels("6.7.4"), std::make_pair(0, 0));  // pending: not in force
  EXPECT_EQ(post("li.wei", "/api/v1/waivers/" + id + "/approve", "").first, 403);
  ASSERT_EQ(post("wang.fang", "/api/v1/waivers/" + id + "/approve", "").first, 200);
  // Strict level unchanged; the level with waivers counts it.
  EXPECT_EQ(levels("6.7.4"), std::make_pair(0, 1));
  auto page = getJson("/api/v1/systems/payments");
  EXPECT_EQ(page["waived"].GetInt(), 1);
  auto metrics = client_.get(base_ + "/metrics", std::chrono::seconds(5));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("opsmaturity_item_level_with_waivers{domain=\"6.7\",item=\"6.7.4\","
                               "system=\"payments\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("opsmaturity_item_level{domain=\"6.7\",item=\"6.7.4\","
                               "system=\"payments\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("opsmaturity_waivers{state=\"approved\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("opsmaturity_waiver_expiry_timestamp_seconds{criterion=\"6.7.4/"
                               "L1/2\",system=\"payments\"}"),
            std::string::npos);
  // Only items with a waiver get a with-waivers series.
  EXPECT_EQ(metrics->body.find("opsmaturity_item_level_with_waivers{domain=\"6.1\""),
            std::string::npos);
  ASSERT_EQ(post("zhao.min", "/api/v1/waivers/" + id + "/revoke", "").first, 200);
  EXPECT_EQ(levels("6.7.4"), std::make_pair(0, 0));
}

TEST_F(LedgerTest, AnExpiredWaiverResurfacesTheRealState) {
  auto asked = post("li.wei", "/api/v1/waivers",
                    "{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": "
                    "\"waiting for the new crisis plan\", \"risk\": \"low\", \"expires\": \"" +
                        today(-2) + "\"}");
  ASSERT_EQ(asked.first, 201);
  ASSERT_EQ(post("wang.fang", "/api/v1/waivers/" + std::to_string(idOf(asked.second)) + "/approve",
                 "")
                .first,
            200);
  EXPECT_EQ(levels("6.7.4"), std::make_pair(0, 1));
  // Three days later (the agent's clock), the waiver has expired.
  agent_->setClock([] { return Clock::now() + std::chrono::hours(72); });
  agent_->rescore();
  auto s = agent_->scores();
  ASSERT_FALSE(s.empty());
  for (const auto& item : s[0].items) {
    if (item.item == "6.7.4") {
      EXPECT_EQ(item.level, 0);
      EXPECT_EQ(item.level_with_waivers, 0);
    }
  }
  EXPECT_EQ(effectiveState(*agent_->ledger().waiver(idOf(asked.second)),
                           Clock::now() + std::chrono::hours(72)),
            "expired");
}

TEST_F(LedgerTest, EveryWriteIsInTheAuditLogWhichNobodyCanRewrite) {
  auto made = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(made.first, 201);
  const std::string id = std::to_string(idOf(made.second));
  ASSERT_EQ(post("wang.fang", "/api/v1/attestations/" + id + "/approve", "").first, 200);
  // Reloading needs the admin role.
  EXPECT_EQ(post("wang.fang", "/-/reload", "").first, 403);
  ASSERT_EQ(post("root", "/-/reload", "").first, 200);
  auto audit = getJson("/api/v1/audit?system=payments");
  ASSERT_TRUE(audit.HasMember("audit"));
  std::vector<std::string> seen;
  for (const auto& e : audit["audit"].GetArray()) {
    seen.push_back(std::string(e["actor"].GetString()) + " " + e["action"].GetString());
  }
  // Newest first.
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0], "root reload");
  EXPECT_EQ(seen[1], "wang.fang attestation.approve");
  EXPECT_EQ(seen[2], "li.wei attestation.create");
  const auto& approve = audit["audit"][1];
  EXPECT_STREQ(approve["before"]["state"].GetString(), "pending");
  EXPECT_STREQ(approve["after"]["state"].GetString(), "approved");
  // Paging: before= and limit=.
  auto page = getJson("/api/v1/audit?limit=1&before=" +
                      std::to_string(audit["audit"][0]["seq"].GetInt64()));
  ASSERT_EQ(page["audit"].Size(), 1u);
  EXPECT_STREQ(page["audit"][0]["action"].GetString(), "attestation.approve");
  // Token names, never tokens, anywhere.
  auto all = client_.get(base_ + "/api/v1/audit?limit=1000", std::chrono::seconds(5));
  ASSERT_TRUE(all);
  for (const auto& [name, rt] : kPeople) {
    EXPECT_EQ(all->body.find(rt.second), std::string::npos) << name;
  }
  // The store itself refuses to change or delete an audit row.
  stop();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "state.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit SET actor = 'mallory'", nullptr, nullptr, &err),
            SQLITE_OK);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("append-only"), std::string::npos);
  sqlite3_free(err);
  err = nullptr;
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, &err), SQLITE_OK);
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_F(LedgerTest, AttestationsWaiversAndTheAuditLogSurviveARestart) {
  auto made = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(made.first, 201);
  ASSERT_EQ(post("wang.fang",
                 "/api/v1/attestations/" + std::to_string(idOf(made.second)) + "/approve", "")
                .first,
            200);
  auto asked = post("li.wei", "/api/v1/waivers",
                    "{\"system\": \"ledger\", \"criterion\": \"6.7.4/L1/2\", \"justification\": "
                    "\"ledger is being decommissioned\", \"risk\": \"low\", \"expires\": \"" +
                        today(-20) + "\"}");
  ASSERT_EQ(asked.first, 201);
  stop();
  start();
  EXPECT_EQ(levels("6.7.4").first, 1);
  EXPECT_EQ(getJson("/api/v1/attestations?state=approved")["attestations"].Size(), 1u);
  EXPECT_EQ(getJson("/api/v1/waivers?state=pending")["waivers"].Size(), 1u);
  EXPECT_GE(getJson("/api/v1/audit")["audit"].Size(), 3u);
  // New ids continue after the stored ones.
  auto next = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(next.first, 201);
  EXPECT_GT(idOf(next.second), idOf(made.second));
}

TEST_F(LedgerTest, EvidenceExportHasTheAttestationsWaiversAndAuditOfTheSystem) {
  auto made = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(made.first, 201);
  ASSERT_EQ(post("wang.fang",
                 "/api/v1/attestations/" + std::to_string(idOf(made.second)) + "/approve", "")
                .first,
            200);
  auto store = Store::open((dir_.path() / "state.db").string(), Store::Access::kReadOnly);
  ASSERT_TRUE(store) << store.error().message;
  auto json = (*store)->exportSystem("payments");
  ASSERT_TRUE(json) << json.error().message;
  rapidjson::Document d;
  d.Parse(json->c_str());
  ASSERT_FALSE(d.HasParseError()) << *json;
  ASSERT_EQ(d["attestations"].Size(), 1u);
  EXPECT_STREQ(d["attestations"][0]["approved_by"].GetString(), "wang.fang");
  EXPECT_EQ(d["waivers"].Size(), 0u);
  ASSERT_GE(d["audit"].Size(), 2u);
  EXPECT_STREQ(d["audit"][0]["action"].GetString(), "attestation.create");  // oldest first
  EXPECT_EQ((*store)->exportSystem("ledger").value().find("attestation.create"),
            std::string::npos);
}

TEST(LedgerImport, AttestationsKeptAsEvidenceByAnOlderStoreBecomePendingRecords) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  const std::string db = (dir.path() / "state.db").string();
  {
    auto store = Store::open(db);
    ASSERT_TRUE(store);
    scorer::Evidence e;
    e.system = "payments";
    e.key = "attestation.6.7.4/L1/2";
    e.value = true;
    e.observed_at = Clock::now() - std::chrono::hours(24);
    e.expires_at = Clock::now() + std::chrono::hours(24 * 300);
    e.source = scorer::Source{scorer::kApiAttestationSource,
                              "POST /api/v1/attestations request body:1:2 by Li Wei: "
                              "https://wiki/crisis"};
    ASSERT_TRUE((*store)->replaceEvidence(scorer::kApiAttestationSource, {e}));
  }
  auto config = loadConfig(
      dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                 "/rules\nstorage_path: state.db\nsystems: [payments]\n"
                                 "collectors: [{type: file, path: f.yaml}]\n"),
      registry);
  ASSERT_TRUE(config) << config.error().message;
  {
    auto agent = Agent::create(std::move(*config));
    ASSERT_TRUE(agent) << agent.error().message;
    auto all = (*agent)->ledger().attestations();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].attested_by, "Li Wei");
    EXPECT_EQ(all[0].document, "https://wiki/crisis");
    EXPECT_EQ(all[0].state, "pending");
    // Without require_approval a pending attestation counts, as it did before.
    EXPECT_TRUE((*agent)->evidence().find("payments", "attestation.6.7.4/L1/2"));
  }
  auto store = Store::open(db, Store::Access::kReadOnly);
  ASSERT_TRUE(store);
  auto left = (*store)->loadEvidence();
  ASSERT_TRUE(left);
  for (const auto& e : *left) EXPECT_NE(e.source.collector, scorer::kApiAttestationSource);
}

TEST_F(LedgerTest, TheDocumentIsHashedAndAChangeOrLossIsFlagged) {
  std::atomic<int> version{1};
  std::atomic<bool> gone{false};
  testing::FixtureServer wiki([&](const HttpRequest&) {
    if (gone) return HttpReply{404, "text/plain", "no such page\n"};
    return HttpReply{200, "text/html", "<h1>Crisis organisation v" +
                                           std::to_string(version.load()) + "</h1>\n"};
  });
  auto made = post("li.wei", "/api/v1/attestations", attestation(wiki.url() + "/crisis-org"));
  ASSERT_EQ(made.first, 201);
  const int64_t id = idOf(made.second);
  // The daemon checks new documents within seconds.
  scorer::Attestation a;
  for (int i = 0; i < 100; ++i) {
    a = *agent_->ledger().attestation(id);
    if (a.document_status != "unchecked") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(a.document_status, "ok") << a.document_detail;
  EXPECT_EQ(a.document_sha256, sha256Hex("<h1>Crisis organisation v1</h1>\n"));

  // Edited: flagged as changed after the next check (document_check_interval later).
  version = 2;
  auto later = Clock::now() + std::chrono::hours(2);
  agent_->setClock([&] { return later; });
  EXPECT_GE(agent_->checkDocuments(), 1u);
  a = *agent_->ledger().attestation(id);
  EXPECT_EQ(a.document_status, "changed");
  EXPECT_EQ(a.document_sha256, sha256Hex("<h1>Crisis organisation v1</h1>\n"));  // the original
  agent_->rescore();
  auto metrics = client_.get(base_ + "/metrics", std::chrono::seconds(5));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("opsmaturity_attestation_document_flagged{criterion=\"6.7.4/L1/2\","
                               "status=\"changed\",system=\"payments\"} 1"),
            std::string::npos);
  // Gone.
  gone = true;
  later += std::chrono::hours(2);
  agent_->checkDocuments();
  EXPECT_EQ(agent_->ledger().attestation(id)->document_status, "missing");
  // Both changes are in the audit log, by the agent.
  auto audit = agent_->ledger().auditLog("payments", 0, 100);
  ASSERT_TRUE(audit);
  int by_agent = 0;
  for (const auto& e : *audit) by_agent += e.actor == "agent" && e.action == "attestation.document";
  EXPECT_EQ(by_agent, 3);  // unchecked -> ok -> changed -> missing
}

TEST_F(LedgerTest, FileDocumentsAreReadOnlyUnderTheDocumentRoots) {
  const std::string inside = (dir_.path() / "docs" / "crisis-org.md").string();
  auto made = post("li.wei", "/api/v1/attestations", attestation("file://" + inside));
  ASSERT_EQ(made.first, 201);
  auto outside = post("li.wei", "/api/v1/attestations",
                      "{\"system\": \"ledger\", \"criterion\": \"6.7.4/L1/2\", \"document\": "
                      "\"file://" + (dir_.path() / "docs" / ".." / "tokens.yml").string() +
                          "\", \"date\": \"" + today(1) + "\"}");
  ASSERT_EQ(outside.first, 201);
  agent_->checkDocuments();
  auto a = *agent_->ledger().attestation(idOf(made.second));
  EXPECT_EQ(a.document_status, "ok") << a.document_detail;
  EXPECT_EQ(a.document_sha256, sha256Hex("# 应急组织\nOn-call: Li Wei, Wang Fang\n"));
  auto b = *agent_->ledger().attestation(idOf(outside.second));
  EXPECT_EQ(b.document_status, "not_fetched") << b.document_detail;
  EXPECT_TRUE(b.document_sha256.empty());
}

TEST(Tokens, TheFileHoldsHashesAndErrorsNameTheField) {
  testing::TempDir dir;
  auto ok = Tokens::load(dir.write("t.yml", tokensFile()));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->size(), kPeople.size());
  auto who = ok->find("token-of-wang-fang-approver-3");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "wang.fang");
  EXPECT_EQ(who->role, Role::kApprover);
  EXPECT_FALSE(ok->find("token-of-wang-fang-approver-4"));
  EXPECT_FALSE(ok->find(""));
  const std::string h = sha256Hex("x");
  for (const auto& [text, expect] : std::vector<std::pair<std::string, std::string>>{
           {"tokens:\n  - {name: a, role: attester, sha256: plain-token}\n", "bad.yml:2: field 'sha256'"},
           {"tokens:\n  - {name: a, role: boss, sha256: " + h + "}\n", "'boss' is not one of"},
           {"tokens:\n  - {name: 'a b', role: viewer, sha256: " + h + "}\n", "field 'name'"},
           {"tokens:\n  - {name: a, role: viewer, sha256: " + h + "}\n  - {name: a, role: "
            "viewer, sha256: " + sha256Hex("y") + "}\n",
            "a second token named 'a'"},
           {"tokens:\n  - {name: a, role: viewer, sha256: " + h + "}\n  - {name: b, role: "
            "admin, sha256: " + h + "}\n",
            "the same token as 'a'"},
           {"tokens:\n  - {name: a, role: viewer, sha256: " + h + ", token: x}\n", "token"},
       }) {
    auto bad = Tokens::load(dir.write("bad.yml", text));
    ASSERT_FALSE(bad) << text;
    EXPECT_NE(bad.error().message.find(expect), std::string::npos)
        << expect << " <- " << bad.error().message;
  }
}

TEST(Attestations, WithRequireApprovalAFileEntryCountsOnlyApprovedBySomeoneElse) {
  scorer::Attestation a;
  a.attested_by = "li.wei";
  a.date = Clock::now() - std::chrono::hours(1);
  a.expires = Clock::now() + std::chrono::hours(1);
  a.state = "pending";
  EXPECT_TRUE(scorer::counts(a, Clock::now(), false));
  EXPECT_FALSE(scorer::counts(a, Clock::now(), true));
  a.state = "approved";
  a.approved_by = "li.wei";
  EXPECT_FALSE(scorer::counts(a, Clock::now(), true));
  a.approved_by = "wang.fang";
  EXPECT_TRUE(scorer::counts(a, Clock::now(), true));
  EXPECT_FALSE(scorer::counts(a, Clock::now() + std::chrono::hours(2), false));
  EXPECT_EQ(scorer::effectiveState(a, Clock::now() + std::chrono::hours(2)), "expired");
  a.state = "revoked";
  EXPECT_FALSE(scorer::counts(a, Clock::now(), false));
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// Request bodies are JSON only, of the declared fields: a waiver's and a decision's too.
TEST_F(LedgerTest, WaiverAndDecisionBodiesAreJsonOfTheirDeclaredFields) {
  const std::string waiver =
      "{\"system\": \"payments\", \"criterion\": \"6.7.4/L1/2\", \"justification\": \"the crisis "
      "team is being reorganised until Q1\", \"risk\": \"medium\", \"expires\": \"" +
      formatTime(Clock::now() + std::chrono::hours(24 * 30)).substr(0, 10) + "\"";
  auto yaml = post("li.wei", "/api/v1/waivers",
                   "system: payments\ncriterion: 6.7.4/L1/2\njustification: &j long enough "
                   "text\nrisk: low\nexpires: 2026-12-30\n");
  EXPECT_EQ(yaml.first, 400);
  EXPECT_NE(yaml.second.find("invalid JSON"), std::string::npos) << yaml.second;
  std::string forged = waiver + "}";
  const std::string why = "the crisis team";
  forged.replace(forged.find(why), why.size(), "ok\\n2026-12-04 [info] waiver approved");
  auto control = post("li.wei", "/api/v1/waivers", forged);
  EXPECT_EQ(control.first, 400);
  EXPECT_NE(control.second.find("field 'justification': must not hold control characters"),
            std::string::npos)
      << control.second;
  auto typed = post("li.wei", "/api/v1/waivers",
                    "{\"system\": [\"payments\"], \"criterion\": \"6.7.4/L1/2\"}");
  EXPECT_EQ(typed.first, 400);
  EXPECT_NE(typed.second.find("field 'system': must be a string"), std::string::npos)
      << typed.second;
  auto asked = post("li.wei", "/api/v1/waivers", waiver + "}");
  ASSERT_EQ(asked.first, 201) << asked.second;
  const std::string approve = "/api/v1/waivers/" + std::to_string(idOf(asked.second)) + "/approve";
  auto comment = post("wang.fang", approve, "{\"comment\": 1}");
  EXPECT_EQ(comment.first, 400);
  EXPECT_NE(comment.second.find("field 'comment': must be a string"), std::string::npos)
      << comment.second;
  auto unknown = post("wang.fang", approve, "{\"comment\": \"ok\", \"by\": \"me\"}");
  EXPECT_EQ(unknown.first, 400);
  EXPECT_NE(unknown.second.find("field 'by': unknown field (allowed: comment)"), std::string::npos)
      << unknown.second;
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// A document link with user:password@ was stored and shown, without a token, in the API, the
// evidence, the audit log and the console. The API refuses it now, and records kept from
// before show it redacted everywhere.
TEST_F(LedgerTest, CredentialsInADocumentLinkAreRefusedAndOlderOnesRedacted) {
  auto refused = post("li.wei", "/api/v1/attestations",
                      attestation("https://li:hunter2pass@wiki.example.com/crisis-org"));
  EXPECT_EQ(refused.first, 400);
  EXPECT_NE(refused.second.find("a link with credentials (user:password@) is refused"),
            std::string::npos)
      << refused.second;
  EXPECT_EQ(refused.second.find("hunter2pass"), std::string::npos);

  auto made = post("li.wei", "/api/v1/attestations", attestation());
  ASSERT_EQ(made.first, 201) << made.second;
  stop();
  // As an older agent stored it.
  const std::string db = (dir_.path() / "state.db").string();
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  const char* sql =
      "UPDATE attestations SET record = replace(record, 'https://wiki.example.com', "
      "'https://li:s3cretpass@wiki.example.com');"
      "INSERT INTO audit (at, actor, action, system, subject, before, after) VALUES (0, 'li.wei', "
      "'attestation.create', 'payments', 'attestation #1', '', "
      "'{\"document\":\"ftp://li:s3cretpass@wiki\",\"x\":{\"y\":\"a@b\"}}');";
  ASSERT_EQ(sqlite3_exec(h, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_close(h);
  start();
  for (const std::string path : {"/api/v1/attestations", "/api/v1/audit?limit=1000",
                                  "/api/v1/evidence?system=payments", "/api/v1/systems/payments",
                                  "/ui/reviews", "/ui/systems/payments"}) {
    auto r = client_.get(base_ + path, std::chrono::seconds(5));
    ASSERT_TRUE(r) << path << ": " << r.error().message;
    EXPECT_EQ(r->body.find("s3cretpass"), std::string::npos) << path << ": " << r->body;
  }
  auto audit = getJson("/api/v1/audit?limit=1000");
  ASSERT_TRUE(audit.IsObject());
  EXPECT_NE(client_.get(base_ + "/api/v1/attestations", std::chrono::seconds(5))
                ->body.find("https://REDACTED@wiki.example.com"),
            std::string::npos);
}

}  // namespace
}  // namespace opsm::agent
