// The web console in a real browser: Debian's headless chromium driven over WebDriver
// (chromedriver), against a running agent with a tokens file and require_approval. Every page
// loads with its stylesheet and script, no console error, a non-blank screenshot and the CJK
// font; an attester attests through the page, an approver approves it on the review page, and
// the item's level rises on the system page.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "agent/core/agent.h"
#include "agent/daemon/daemon.h"
#include "common/hash.h"
#include "tests/support/drill_pack.h"
#include "tests/support/process.h"
#include "tests/support/running_agent.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

const std::string kAttester = "li-wei-attester-token-0000000001";
const std::string kApprover = "wang-fang-approver-token-00000002";

// One WebDriver command: method, path under the session, JSON body; returns the parsed reply.
struct Reply {
  long status = 0;
  rapidjson::Document json;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Reply request(const std::string& method, const std::string& url, const std::string& body = "") {
  Reply r;
  std::string text;
  CURL* h = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (method == "POST") curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &text);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
  if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  r.json.Parse(text.c_str());
  return r;
}

std::string jsonString(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  return buf.GetString();
}

class ConsoleBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    driver_path_ = testing::findExecutable("chromedriver");
    browser_path_ = testing::findExecutable("chromium");
    ASSERT_FALSE(driver_path_.empty()) << "chromedriver is not installed (scripts/setup)";
    ASSERT_FALSE(browser_path_.empty()) << "chromium is not installed (scripts/setup)";
    testing::drillRulePack(dir_);
    dir_.write("facts.json", "{\"facts\": [{\"system\": \"payments\", \"key\": "
                             "\"plugin.drill.last_report_age_seconds\", \"value\": 3600}]}");
    dir_.write("tokens.yml", "tokens:\n  - {name: li.wei, role: attester, sha256: " +
                                 sha256Hex(kAttester) + "}\n  - {name: wang.fang, role: approver, "
                                 "sha256: " + sha256Hex(kApprover) + "}\n");
    std::string error;
    running_ = testing::RunningAgent::start(
        dir_.write("agent.yml",
                   "listen_address: 127.0.0.1:0\nrules_dir: rules\ntokens_file: tokens.yml\n"
                   "require_approval: true\nstorage_path: state.db\nsystems: [payments]\n"
                   "collectors:\n  - {name: drills, type: exec, command: [cat, " +
                       (dir_.path() / "facts.json").string() + "]}\n"),
        &error);
    ASSERT_TRUE(running_) << error;
    agent_ = &running_->agent();
    base_ = running_->base();

    const unsigned short port = testing::freePort();
    driver_ = std::make_unique<testing::Process>(
        std::vector<std::string>{driver_path_, "--port=" + std::to_string(port),
                                 "--allowed-ips=127.0.0.1"},
        (dir_.path() / "chromedriver.log").string());
    webdriver_ = "http://127.0.0.1:" + std::to_string(port);
    ASSERT_TRUE(testing::waitFor([&] { return request("GET", webdriver_ + "/status").status == 200; },
                                 std::chrono::seconds(30)))
        << driver_->log();
    const std::string caps =
        "{\"capabilities\": {\"alwaysMatch\": {\"browserName\": \"chrome\", "
        "\"goog:chromeOptions\": {\"binary\": " + jsonString(browser_path_) +
        ", \"args\": [\"--headless=new\", \"--no-sandbox\", \"--disable-gpu\", "
        "\"--disable-dev-shm-usage\", \"--no-first-run\", \"--window-size=1400,1000\", "
        "\"--user-data-dir=" + (dir_.path() / "profile").string() + "\"]}, "
        "\"goog:loggingPrefs\": {\"browser\": \"ALL\"}}}}";
    auto session = request("POST", webdriver_ + "/session", caps);
    ASSERT_EQ(session.status, 200) << driver_->log();
    session_ = webdriver_ + "/session/" + session.json["value"]["sessionId"].GetString();
  }

  void TearDown() override {
    if (!session_.empty()) request("DELETE", session_);
    driver_.reset();
    running_.reset();
  }

  void go(const std::string& path) {
    ASSERT_EQ(request("POST", session_ + "/url", "{\"url\": " + jsonString(base_ + path) + "}").status,
              200);
    // The script marks the page ready once it has run (and asked who is signed in).
    ASSERT_TRUE(testing::waitFor(
        [&] { return script("return document.documentElement.dataset.ready === 'yes';") == "true"; },
        std::chrono::seconds(20)))
        << path << ": the console's script did not run";
  }
  // Runs `js` in the page; returns the value as JSON text.
  std::string script(const std::string& js) {
    auto r = request("POST", session_ + "/execute/sync",
                     "{\"script\": " + jsonString(js) + ", \"args\": []}");
    if (r.status != 200 || !r.json.IsObject() || !r.json.HasMember("value")) return "";
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    r.json["value"].Accept(w);
    return buf.GetString();
  }
  std::string element(const std::string& css) {
    auto r = request("POST", session_ + "/element",
                     "{\"using\": \"css selector\", \"value\": " + jsonString(css) + "}");
    if (r.status != 200) return "";
    return r.json["value"].MemberBegin()->value.GetString();
  }
  void click(const std::string& css) {
    std::string id = element(css);
    ASSERT_FALSE(id.empty()) << "no element " << css;
    ASSERT_EQ(request("POST", session_ + "/element/" + id + "/click", "{}").status, 200) << css;
  }
  void type(const std::string& css, const std::string& text) {
    std::string id = element(css);
    ASSERT_FALSE(id.empty()) << "no element " << css;
    ASSERT_EQ(request("POST", session_ + "/element/" + id + "/value",
                      "{\"text\": " + jsonString(text) + "}")
                  .status,
              200);
  }
  // Severe browser console entries since the last call (errors, failed loads, CSP refusals).
  std::vector<std::string> consoleErrors() {
    auto r = request("POST", session_ + "/se/log", "{\"type\": \"browser\"}");
    std::vector<std::string> out;
    if (r.status != 200 || !r.json["value"].IsArray()) return {"cannot read the browser log"};
    for (const auto& e : r.json["value"].GetArray()) {
      if (std::string(e["level"].GetString()) == "SEVERE") out.push_back(e["message"].GetString());
    }
    return out;
  }
  // The share of non-white pixels of a screenshot of the page, measured in the browser itself
  // (the PNG drawn on a canvas of a blank page).
  double inkOfScreenshot(const std::string& name) {
    auto shot = request("GET", session_ + "/screenshot");
    if (shot.status != 200) return -1;
    const std::string png = shot.json["value"].GetString();
    std::ofstream(dir_.path() / (name + ".png.b64")) << png;
    request("POST", session_ + "/url", "{\"url\": \"about:blank\"}");
    auto r = request(
        "POST", session_ + "/execute/async",
        "{\"script\": " +
            jsonString("const done = arguments[1]; const img = new Image(); img.onload = () => {"
                       " const c = document.createElement('canvas'); c.width = img.width;"
                       " c.height = img.height; const g = c.getContext('2d'); g.drawImage(img, 0, 0);"
                       " const d = g.getImageData(0, 0, c.width, c.height).data; let ink = 0;"
                       " for (let i = 0; i < d.length; i += 4) if (d[i] < 240 || d[i+1] < 240 ||"
                       " d[i+2] < 240) ink++; done(ink / (d.length / 4)); };"
                       " img.onerror = () => done(-1); img.src = 'data:image/png;base64,' + arguments[0];") +
            ", \"args\": [" + jsonString(png) + "]}");
    return r.status == 200 && r.json["value"].IsNumber() ? r.json["value"].GetDouble() : -1;
  }
  void signIn(const std::string& token, const std::string& expect) {
    type("#token", token);
    click("#signin button[type=submit]");
    ASSERT_TRUE(testing::waitFor(
        [&] { return script("return document.getElementById('whoami').textContent;") ==
                     jsonString(expect); },
        std::chrono::seconds(10)))
        << "signed in as " << script("return document.getElementById('whoami').textContent;");
  }
  // Marks the current document, so that waitReloaded() knows when the page has reloaded itself
  // (the console reloads after a write): navigating before that would race the reload.
  void markPage() { script("window.__opsmOld = true; return true;"); }
  void waitReloaded() {
    ASSERT_TRUE(testing::waitFor(
        [&] {
          return script("return window.__opsmOld === undefined && "
                        "document.documentElement.dataset.ready === 'yes';") == "true";
        },
        std::chrono::seconds(20)))
        << "the page did not reload after the write";
  }
  int itemLevel(const std::string& item) {
    for (const auto& s : agent_->scores()) {
      for (const auto& i : s.items) {
        if (i.item == item) return i.level;
      }
    }
    return -1;
  }

  std::string driver_path_, browser_path_;
  testing::TempDir dir_;
  std::unique_ptr<testing::RunningAgent> running_;
  Agent* agent_ = nullptr;
  std::string base_, webdriver_, session_;
  std::unique_ptr<testing::Process> driver_;
};

TEST_F(ConsoleBrowserTest, EveryPageLoadsCleanlyAndAnAttestationApprovedRaisesTheLevel) {
  for (const std::string path : {"/ui/", "/ui/?lang=en&domain=6.7", "/ui/systems/payments",
                                  "/ui/systems/payments?lang=en", "/ui/reviews",
                                  "/ui/report-card?days=7"}) {
    SCOPED_TRACE(path);
    go(path);
    EXPECT_EQ(script("return document.styleSheets.length;"), "1");
    // Every resource the page asked for came back (the stylesheet and the script, nothing
    // from anywhere else).
    const std::string loaded = "performance.getEntriesByType('resource').filter(e => "
                               "e.initiatorType !== 'fetch')";
    EXPECT_EQ(script("return " + loaded + ".filter(e => "
                     "!e.name.startsWith(location.origin + '/ui/static/') || "
                     "(e.responseStatus && e.responseStatus !== 200)).length;"),
              "0");
    EXPECT_EQ(script("return " + loaded + ".length;"), "2");
    // Chinese renders in a CJK font, not as empty boxes.
    EXPECT_EQ(script("return document.fonts.check('16px \"Noto Sans CJK SC\"', '成熟度');"), "true");
    auto errors = consoleErrors();
    EXPECT_TRUE(errors.empty()) << errors.front();
    std::string name = path.substr(4);
    for (auto& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    const double ink = inkOfScreenshot("page" + name);
    EXPECT_GT(ink, 0.01) << "the screenshot is blank";
    EXPECT_LT(ink, 0.95) << "the screenshot is all dark";
  }
  // The radar of the 9 domains is drawn by the agent.
  go("/ui/systems/payments");
  EXPECT_EQ(script("return document.querySelectorAll('svg.radar text.axis').length;"), "9");

  // An attester attests 6.7.4/L1/2 through the form.
  ASSERT_EQ(itemLevel("6.7.4"), 0);
  signIn(kAttester, "li.wei (attester)");
  click("button.attest[data-criterion='6.7.4/L1/2']");
  type("#attest-form input[name=document]", "https://wiki.example.com/应急组织");
  type("#attest-form textarea[name=comment]", "crisis team reviewed");
  markPage();
  click("#attest-form button[value=submit]");
  waitReloaded();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        auto all = agent_->ledger().attestations();
        return all.size() == 1 && all[0].attested_by == "li.wei" && all[0].state == "pending";
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(itemLevel("6.7.4"), 0) << "pending: not counted";

  // An approver approves it on the review page.
  go("/ui/reviews");
  EXPECT_EQ(script("return document.getElementById('whoami').textContent;"), "\"li.wei (attester)\"")
      << "the token is kept for the browser session";
  click("#signout");
  signIn(kApprover, "wang.fang (approver)");
  type(".actions[data-kind=attestations] input.comment", "org chart checked");
  markPage();
  click(".actions[data-kind=attestations] button[data-action=approve]");
  waitReloaded();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        auto all = agent_->ledger().attestations();
        return all.size() == 1 && all[0].state == "approved" && all[0].approved_by == "wang.fang";
      },
      std::chrono::seconds(10)));

  // The level rose, on the system page too.
  EXPECT_EQ(itemLevel("6.7.4"), 1);
  go("/ui/systems/payments?lang=en");
  EXPECT_NE(script("return document.querySelector('#item-6\\\\.7\\\\.4 h3').textContent;")
                .find("level 1"),
            std::string::npos)
      << script("return document.querySelector('#item-6\\\\.7\\\\.4 h3').textContent;");
  auto errors = consoleErrors();
  EXPECT_TRUE(errors.empty()) << errors.front();
  // Nothing of the token is in the page.
  EXPECT_EQ(script("return document.documentElement.outerHTML.includes('" + kApprover + "');"),
            "false");
}

}  // namespace
}  // namespace opsm::agent
