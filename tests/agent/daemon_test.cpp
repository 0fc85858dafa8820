// The daemon's scheduling: with bounded concurrency, a hung source (it accepts the connection
// and never answers) holds one poll thread until its own timeout and delays no other source;
// their evidence is scored before the hung one gives up, and readiness waits for it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <future>
#include <thread>
#include <vector>

#include "agent/core/agent.h"
#include "agent/daemon/daemon.h"
#include "agent/daemon/daemon_clock.h"
#include "collectors/common/http_client.h"
#include "tests/support/fixture_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

namespace asio = boost::asio;

// A REST CMDB whose /api/cis/<n> lists one complete CI of system sys-<n>.
HttpReply cmdb(const HttpRequest& r) {
  const std::string prefix = "/api/cis/";
  if (r.target.rfind(prefix, 0) != 0) return {404, "application/json", R"({"error":"not found"})"};
  std::string n = r.target.substr(prefix.size());
  return {200, "application/json",
          R"({"data":[{"app":{"code":"sys-)" + n + R"("},"owner":"ops","ip":"10.0.0.)" + n + R"("}]})"};
}

std::string metricsLine(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  auto end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

// Holds the agent's clock while set: a scoring that reads it waits until the gate opens.
struct ClockGate {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  int held = 0;  // clock reads that were held
  void set(bool on) {
    {
      std::lock_guard l(mu);
      hold = on;
    }
    cv.notify_all();
  }
  // The agent's clock reads through `gate`, which the clock keeps alive.
  static void install(const std::shared_ptr<ClockGate>& gate, Agent& a) {
    a.setClock([gate] {
      std::unique_lock l(gate->mu);
      if (gate->hold) {
        ++gate->held;
        gate->cv.notify_all();
        gate->cv.wait(l, [&] { return !gate->hold; });
      }
      return Clock::now();
    });
  }
  // Whether a clock read was held within 30 s.
  bool waitHeld() {
    std::unique_lock l(mu);
    return cv.wait_for(l, std::chrono::seconds(30), [&] { return held > 0; });
  }
  // Opens the gate when it goes out of scope.
  struct Release {
    std::shared_ptr<ClockGate> gate;
    ~Release() { gate->set(false); }
  };
};

// A daemon of the shipped rules polling REST CMDB sources: hung ones (listening, never
// accepting: the kernel completes the handshake and takes the request) and answering ones
// (the fixture's /api/cis/<n>). Torn down even when an assertion fails midway.
class DaemonTest : public ::testing::Test {
 protected:
  DaemonTest() : server_(cmdb) {}

  // A hung source's URL.
  std::string hungUrl() {
    hung_.push_back(std::make_unique<asio::ip::tcp::acceptor>(
        io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
    return "http://127.0.0.1:" + std::to_string(hung_.back()->local_endpoint().port()) + "/api/cis";
  }
  std::string answeringUrl(int n) { return server_.url() + "/api/cis/" + std::to_string(n); }
  static std::string source(const std::string& name, const std::string& url,
                            const std::string& timing, const std::string& extra = "") {
    return "  - {name: " + name + ", type: rest_cmdb, " + timing + ", url: \"" + url +
           "\", items: /data, system: /app/code" + extra + "}\n";
  }

  // `prepare` runs on the agent before the daemon starts; `extra` is more top-level config.
  void start(int max_concurrent_polls, const std::string& sources,
             const std::function<void(Agent&)>& prepare = {}, const std::string& extra = "") {
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    auto config = loadConfig(
        dir_.write("agent.yml", extra + "listen_address: 127.0.0.1:0\nrules_dir: " +
                                    std::string(OPSM_SOURCE_DIR) + "/rules\nmax_concurrent_polls: " +
                                    std::to_string(max_concurrent_polls) + "\ncollectors:\n" + sources),
        registry_);
    ASSERT_TRUE(config.ok()) << config.error().describe();
    auto agent = Agent::create(std::move(*config));
    ASSERT_TRUE(agent) << agent.error().message;
    agent_ = std::move(*agent);
    if (prepare) prepare(*agent_);
    DaemonClock::setManual();  // timers on a clock the test moves (daemon_->advanceClock)
    daemon_ = std::make_unique<Daemon>(*agent_);
    ASSERT_TRUE(daemon_->start().ok());
    runner_ = std::thread([this] { daemon_->run(false); });
    base_ = "http://127.0.0.1:" + std::to_string(daemon_->port());
  }

  // The hung sources' servers go away: their pending connections are reset.
  void closeHung() {
    for (auto& a : hung_) a->close();
  }

  void TearDown() override {
    closeHung();  // else the daemon's destructor waits for their timeouts
    if (runner_.joinable()) {
      daemon_->stop();
      runner_.join();
    }
    DaemonClock::reset();
  }

  bool ready() { return http_.get(base_ + "/-/ready", std::chrono::seconds(5)).ok(); }
  std::string metrics() {
    auto r = http_.get(base_ + "/metrics", std::chrono::seconds(5));
    return r ? r->body : std::string();
  }

  asio::io_context io_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> hung_;
  testing::FixtureServer server_;
  testing::TempDir dir_;
  collectors::Registry registry_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<Daemon> daemon_;
  std::thread runner_;
  std::string base_;
  collectors::HttpClient http_{collectors::HttpOptions{}};
};

TEST_F(DaemonTest, AHungSourceDelaysNoOtherSource) {
  std::string sources = source("hung", hungUrl(), "interval: 60s, timeout: 60s");
  const int kOthers = 6;
  for (int n = 0; n < kOthers; ++n) {
    sources += source("cmdb-" + std::to_string(n), answeringUrl(n), "interval: 60s",
                      ", required: [/owner, /ip]");
  }
  start(2, sources);

  // Every other source is polled and scored while the hung one still holds its thread.
  std::string text;
  bool others_done = testing::waitFor(
      [&] {
        text = metrics();
        for (int n = 0; n < kOthers; ++n) {
          std::string sys = "sys-" + std::to_string(n);
          if (metricsLine(text, "opsmaturity_collector_up{collector=\"cmdb-" + std::to_string(n) +
                                    "\"}") != "opsmaturity_collector_up{collector=\"cmdb-" +
                                                  std::to_string(n) + "\"} 1" ||
              text.find("opsmaturity_system_level{system=\"" + sys + "\"}") == std::string::npos) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(others_done) << text;
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_failures_total{collector=\"hung\"}"),
            "opsmaturity_collector_failures_total{collector=\"hung\"} 0");
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_up{collector=\"hung\"}"),
            "opsmaturity_collector_up{collector=\"hung\"} 0");
  EXPECT_FALSE(ready()) << "ready before the hung source's first poll ended";
  EXPECT_NE(text.find("\nopsmaturity_scorings_total "), std::string::npos);
  EXPECT_EQ(metricsLine(text, "opsmaturity_scored_systems"), "opsmaturity_scored_systems " + std::to_string(kOthers));

  // The hung source's server goes away: its poll fails, the agent becomes ready and the
  // others' evidence is untouched.
  closeHung();
  EXPECT_TRUE(testing::waitFor([&] { return ready(); }, std::chrono::seconds(30)));
  text = metrics();
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_failures_total{collector=\"hung\"}"),
            "opsmaturity_collector_failures_total{collector=\"hung\"} 1");
  EXPECT_EQ(metricsLine(text, "opsmaturity_collector_up{collector=\"cmdb-3\"}"),
            "opsmaturity_collector_up{collector=\"cmdb-3\"} 1");
}

// Sources that timed out are polled on a small pool of their own from then on: even as many
// hung sources as poll threads take no thread from the answering ones after their first
// timeout. Round 1: both hung sources hold both threads until their 2 s timeout, the others
// wait. Round 2 (the daemon's clock moved past the 1 h interval): the answering sources are
// polled at once, while the hung ones queue for the one suspect thread (their next failures
// come 2 s and 4 s later).
TEST_F(DaemonTest, SourcesThatTimedOutCannotTakeEveryThread) {
  std::string sources = source("hung-0", hungUrl(), "interval: 1h, timeout: 2s") +
                        source("hung-1", hungUrl(), "interval: 1h, timeout: 2s");
  const int kOthers = 4;
  for (int n = 0; n < kOthers; ++n) {
    sources += source("cmdb-" + std::to_string(n), answeringUrl(n), "interval: 1h, timeout: 1s");
  }
  start(2, sources);

  auto polls = [&](int n) {
    int count = 0;
    for (const auto& r : server_.requests()) count += r.target == "/api/cis/" + std::to_string(n);
    return count;
  };
  auto failures = [&](const char* name) {
    std::string series = std::string("opsmaturity_collector_failures_total{collector=\"") + name + "\"}";
    return metricsLine(metrics(), series) == series + " 1";
  };
  auto round = [&](int k) {
    for (int n = 0; n < kOthers; ++n) {
      if (polls(n) < k) return false;
    }
    return true;
  };
  ASSERT_TRUE(testing::waitFor(
      [&] { return round(1) && failures("hung-0") && failures("hung-1"); },
      std::chrono::seconds(30)));
  daemon_->advanceClock(std::chrono::hours(1));
  ASSERT_TRUE(testing::waitFor([&] { return round(2); }, std::chrono::seconds(30)));
  for (const char* name : {"hung-0", "hung-1"}) {
    EXPECT_TRUE(failures(name))
        << name << ": the answering sources' second poll waited for a hung source's second timeout";
  }
}

// The daemon's timers run on a clock a test moves: a poll due in an hour runs when the clock
// is moved an hour, not before.
TEST_F(DaemonTest, APollDueInAnHourRunsWhenTheDaemonsClockIsMovedAnHour) {
  start(2, source("cmdb-0", answeringUrl(0), "interval: 1h"), {}, "score_interval: 1h\n");
  auto polls = [&] { return server_.requests().size(); };
  ASSERT_TRUE(testing::waitFor([&] { return ready(); }, std::chrono::seconds(30)));
  ASSERT_EQ(polls(), 1u);
  const auto scorings = daemon_->scoringsRequested();
  daemon_->advanceClock(std::chrono::minutes(59));
  // Nothing is due yet (timers see the clock move within milliseconds).
  EXPECT_FALSE(testing::waitFor([&] { return polls() > 1 || daemon_->scoringsRequested() > scorings; },
                                std::chrono::milliseconds(200)));
  daemon_->advanceClock(std::chrono::minutes(1));
  EXPECT_TRUE(testing::waitFor([&] { return polls() == 2; }, std::chrono::seconds(10)));
  EXPECT_TRUE(testing::waitFor([&] { return daemon_->scoringsRequested() >= scorings + 2; },
                               std::chrono::seconds(10)))
      << "the score_interval's scoring and the one after the poll";
}

// Scoring runs on a thread of its own, never on the I/O thread: while a scoring is held up
// (its clock blocks), /-/healthy, /metrics and the API answer from the last snapshot.
TEST_F(DaemonTest, AScoringInProgressHoldsUpNoScrapeOrHealthCheck) {
  auto gate = std::make_shared<ClockGate>();
  start(2, source("cmdb-0", answeringUrl(0), "interval: 60s"),
        [gate](Agent& a) { ClockGate::install(gate, a); },
        "score_interval: 1h\n");
  ASSERT_TRUE(testing::waitFor([&] { return ready(); }, std::chrono::seconds(30)));
  gate->set(true);
  ClockGate::Release release{gate};  // before TearDown stops the daemon
  // The score_interval's scoring starts and is held (asked for before the clock moves again:
  // else one pass over the timers could see both moves, and fire the timer once).
  const auto before = daemon_->scoringsRequested();
  daemon_->advanceClock(std::chrono::hours(1));
  ASSERT_TRUE(gate->waitHeld());
  ASSERT_TRUE(testing::waitFor([&] { return daemon_->scoringsRequested() > before; },
                               std::chrono::seconds(30)));
  // The next score_interval's scoring is asked for while this one is held.
  const auto asked = daemon_->scoringsRequested();
  daemon_->advanceClock(std::chrono::hours(1));
  ASSERT_TRUE(testing::waitFor([&] { return daemon_->scoringsRequested() > asked; },
                               std::chrono::seconds(30)));
  auto healthy = http_.get(base_ + "/-/healthy", std::chrono::seconds(2));
  auto scrape = http_.get(base_ + "/metrics", std::chrono::seconds(2));
  auto api = http_.get(base_ + "/api/v1/systems", std::chrono::seconds(2));
  gate->set(false);
  ASSERT_TRUE(healthy) << healthy.error().message;
  EXPECT_EQ(healthy->status, 200);
  ASSERT_TRUE(scrape) << scrape.error().message;
  EXPECT_NE(scrape->body.find("opsmaturity_system_level{system=\"sys-0\"}"), std::string::npos);
  ASSERT_TRUE(api) << api.error().message;
  EXPECT_NE(api->body.find("\"system\":\"sys-0\""), std::string::npos) << api->body;
}

// Writes and reloads rescore on the scorer thread, never on the I/O thread: while POST
// /-/reload's scoring is held up (its clock blocks), /-/healthy and /metrics still answer,
// and the reload is answered once its scoring is done.
TEST_F(DaemonTest, AReloadOverHttpHoldsUpNoHealthCheckWhileItRescores) {
  auto gate = std::make_shared<ClockGate>();
  ::setenv("OPSM_DAEMON_TEST_TOKEN", "daemon-test-admin-token", 1);
  start(2, source("cmdb-0", answeringUrl(0), "interval: 60s"),
        [gate](Agent& a) { ClockGate::install(gate, a); },
        "score_interval: 1h\napi_token_env: OPSM_DAEMON_TEST_TOKEN\n");
  ASSERT_TRUE(testing::waitFor([&] { return ready(); }, std::chrono::seconds(30)));
  gate->set(true);
  ClockGate::Release release{gate};  // before TearDown stops the daemon
  collectors::HttpOptions admin;
  admin.bearer_token = "daemon-test-admin-token";
  auto reload = std::async(std::launch::async, [&] {
    return collectors::HttpClient(admin).post(base_ + "/-/reload", "", "text/plain",
                                              std::chrono::seconds(60));
  });
  ASSERT_TRUE(gate->waitHeld()) << "the reload did not reach its scoring";
  auto healthy = http_.get(base_ + "/-/healthy", std::chrono::seconds(2));
  auto scrape = http_.get(base_ + "/metrics", std::chrono::seconds(2));
  EXPECT_EQ(reload.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "the reload was answered before its scoring was done";
  gate->set(false);
  ASSERT_TRUE(healthy) << healthy.error().message;
  EXPECT_EQ(healthy->status, 200);
  ASSERT_TRUE(scrape) << scrape.error().message;
  EXPECT_NE(scrape->body.find("opsmaturity_system_level{system=\"sys-0\"}"), std::string::npos);
  auto reloaded = reload.get();
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ(reloaded->body, "reloaded\n");
}

}  // namespace
}  // namespace opsm::agent

namespace opsm::agent {
namespace {

// How `run` stops within stop_timeout: a teardown that does not finish (a poll stuck past its
// deadline, a write that never returns) is left behind, and the caller learns it in time.
TEST(FinishWithin, ATeardownThatHangsIsLeftBehindAfterTheTimeout) {
  EXPECT_TRUE(finishWithin(std::chrono::seconds(30), [] {}));
  auto release = std::make_shared<std::promise<void>>();
  auto released = release->get_future().share();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(finishWithin(std::chrono::milliseconds(100), [released] { released.wait(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  release->set_value();  // the detached teardown ends
}

}  // namespace
}  // namespace opsm::agent
