// Blackbox probing against real servers started by the test on loopback: Debian's
// prometheus-blackbox-exporter, scraped by a real Prometheus the usual way (module params,
// the probed address relabelled into `instance`, the system label on the probe targets),
// probing an HTTP server of the test, a closed port, and a TCP port. The prometheus
// collector reports the system's probes; when the HTTP server stops, the evidence follows.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/collect.h"
#include "tests/support/fixture_server.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

using scorer::Value;

TEST(BlackboxIntegration, ProbesOfASystemFollowWhatTheyProbe) {
  const std::string bb_bin = testing::findExecutable("prometheus-blackbox-exporter");
  const std::string prom_bin = testing::findExecutable("prometheus");
  ASSERT_FALSE(bb_bin.empty() || prom_bin.empty())
      << "prometheus and prometheus-blackbox-exporter must be installed (scripts/setup)";
  testing::TempDir dir;
  auto site = std::make_unique<testing::FixtureServer>(
      [](const agent::HttpRequest&) { return agent::HttpReply{200, "text/plain", "ok\n"}; });
  const std::string site_addr = site->url().substr(std::string("http://").size());
  const unsigned short bb_port = testing::freePort(), prom_port = testing::freePort(),
                       closed = testing::freePort();
  dir.write("blackbox.yml",
            "modules:\n  http_2xx: {prober: http, timeout: 2s}\n"
            "  tcp_connect: {prober: tcp, timeout: 2s}\n");
  std::string relabel = R"(
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:BB
)";
  std::string config = R"(global:
  scrape_interval: 1s
scrape_configs:
  - job_name: blackbox-http
    metrics_path: /probe
    params: {module: [http_2xx]}
    static_configs:
      - targets: ["http://SITE/health", "http://127.0.0.1:CLOSED/"]
        labels: {system: shop}
)" + relabel + R"(  - job_name: blackbox-tcp
    metrics_path: /probe
    params: {module: [tcp_connect]}
    static_configs:
      - targets: ["SITE"]
        labels: {system: shop}
)" + relabel;
  config = std::regex_replace(config, std::regex("BB"), std::to_string(bb_port));
  config = std::regex_replace(config, std::regex("SITE"), site_addr);
  config = std::regex_replace(config, std::regex("CLOSED"), std::to_string(closed));
  const std::string config_path = dir.write("prometheus.yml", config);
  testing::Process bb({bb_bin, "--config.file=" + (dir.path() / "blackbox.yml").string(),
                       "--web.listen-address=127.0.0.1:" + std::to_string(bb_port)},
                      (dir.path() / "blackbox.log").string());
  testing::Process prom({prom_bin, "--config.file=" + config_path,
                         "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
                         "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                        (dir.path() / "prometheus.log").string());

  auto c = testing::buildCollector("name: prom\ntype: prometheus\nurl: http://127.0.0.1:" +
                                   std::to_string(prom_port) + "\n");
  ASSERT_TRUE(c) << c.error().message;
  Result<testing::FactMap> facts = makeError(ErrorCode::kInternal, "not polled");
  auto key = [](const char* k) { return std::make_pair(std::string("shop"), std::string(k)); };
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = testing::pollOnce(**c);
        return facts && facts->count(key("monitoring.prometheus.probes")) &&
               facts->at(key("monitoring.prometheus.probes")) == Value(3) &&
               facts->at(key("monitoring.prometheus.probes_succeeding")) == Value(2);
      },
      std::chrono::seconds(60)))
      << (facts ? "probes never settled" : facts.error().message) << "\n"
      << prom.log() << bb.log();
  EXPECT_DOUBLE_EQ(facts->at(key("monitoring.prometheus.probe_success_ratio")).asNumber(), 2.0 / 3);
  EXPECT_EQ(facts->at(key("monitoring.prometheus.probe_kinds")),
            Value(scorer::StringList{"http", "tcp"}));
  EXPECT_GT(facts->at(key("monitoring.prometheus.probe_duration_seconds_max")).asNumber(), 0);
  EXPECT_LT(facts->at(key("monitoring.prometheus.probe_duration_seconds_max")).asNumber(), 5);
  // the probe targets are the system's targets too, with the "probe" signal
  EXPECT_EQ(facts->at(key("monitoring.prometheus.targets_total")), Value(3));

  // The site goes down: its HTTP and TCP probes fail.
  site.reset();
  ASSERT_TRUE(testing::waitFor(
      [&] {
        facts = testing::pollOnce(**c);
        return facts && facts->count(key("monitoring.prometheus.probes_succeeding")) &&
               facts->at(key("monitoring.prometheus.probes_succeeding")) == Value(0);
      },
      std::chrono::seconds(30)))
      << "the probes never failed: " << (facts ? facts->at(key("monitoring.prometheus.probes_succeeding")).toString() : facts.error().message);
  EXPECT_EQ(facts->at(key("monitoring.prometheus.probe_success_ratio")), Value(0));
}

}  // namespace
}  // namespace opsm
