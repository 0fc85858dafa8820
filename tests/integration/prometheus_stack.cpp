#include "tests/integration/prometheus_stack.h"

#include <signal.h>

#include <regex>

namespace opsm::testing {

PrometheusStack::PrometheusStack() : http_(collectors::HttpOptions{}) {}

PrometheusStack::~PrometheusStack() {
  prometheus_.reset();
  node_.reset();
  alertmanager_.reset();
}

std::string PrometheusStack::alertmanagerUrl() const {
  return "http://127.0.0.1:" + std::to_string(am_port_);
}

std::string PrometheusStack::prometheusUrl() const {
  return "http://127.0.0.1:" + std::to_string(prom_port_);
}

int PrometheusStack::targetsWithHealth(const std::string& health) const {
  auto r = http_.get(prometheusUrl() + "/api/v1/targets?state=active", std::chrono::seconds(2));
  if (!r) return -1;
  std::string needle = "\"health\":\"" + health + "\"";
  int n = 0;
  for (size_t pos = r->body.find(needle); pos != std::string::npos;
       pos = r->body.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

std::string PrometheusStack::start() {
  std::string node_bin = findExecutable("prometheus-node-exporter");
  std::string prom_bin = findExecutable("prometheus");
  std::string am_bin = findExecutable("prometheus-alertmanager");
  if (node_bin.empty() || prom_bin.empty() || am_bin.empty()) {
    return "prometheus, prometheus-node-exporter and prometheus-alertmanager must be installed "
           "(scripts/setup does it)";
  }
  node_port_ = freePort();
  prom_port_ = freePort();
  while (prom_port_ == node_port_) prom_port_ = freePort();
  am_port_ = freePort();
  while (am_port_ == node_port_ || am_port_ == prom_port_) am_port_ = freePort();
  std::string am_config = dir_.write("alertmanager.yml", R"(route:
  receiver: "null"
  group_by: [alertname, system]
  routes:
    - receiver: payments-oncall
      matchers: ['system="payments"']
receivers:
  - name: "null"
  - name: payments-oncall
    email_configs: [{to: oncall@example.invalid, from: am@example.invalid, smarthost: "127.0.0.1:25", require_tls: false}]
    webhook_configs: [{url: "http://127.0.0.1:9/payments"}]
)");
  alertmanager_ = std::make_unique<Process>(
      std::vector<std::string>{am_bin, "--config.file=" + am_config,
                               "--storage.path=" + (dir_.path() / "am").string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(am_port_),
                               "--cluster.listen-address="},
      (dir_.path() / "alertmanager.log").string());

  dir_.write("rules.yml", R"(groups:
  - name: payments
    rules:
      - alert: PaymentsHostDown
        expr: up{job="node"} == 0
        labels: {severity: critical, system: payments}
        annotations: {runbook_url: "https://runbooks.invalid/host-down"}
      - alert: PaymentsHighCpu
        expr: 1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) > 0.9
        for: 10m
        labels: {severity: warning, system: payments}
        annotations: {runbook_url: "https://runbooks.invalid/high-cpu"}
  - name: global
    rules:
      - alert: AnyTargetDown
        expr: up == 0
        labels: {severity: info}
      - record: job:up:sum
        expr: sum by (job) (up{job="node"})
)");
  std::string config = R"(global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:AMPORT"]
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:NODE"]
        labels: {system: payments}
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:PROM"]
        labels: {system: monitoring}
)";
  config = std::regex_replace(config, std::regex("NODE"), std::to_string(node_port_));
  config = std::regex_replace(config, std::regex("PROM"), std::to_string(prom_port_));
  config = std::regex_replace(config, std::regex("AMPORT"), std::to_string(am_port_));
  std::string config_path = dir_.write("prometheus.yml", config);

  node_ = std::make_unique<Process>(
      std::vector<std::string>{node_bin, "--web.listen-address=127.0.0.1:" +
                                             std::to_string(node_port_)},
      (dir_.path() / "node_exporter.log").string());
  prometheus_argv_ = {prom_bin, "--config.file=" + config_path,
                      "--storage.tsdb.path=" + (dir_.path() / "tsdb").string(),
                      "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)};
  prometheus_ = std::make_unique<Process>(prometheus_argv_,
                                          (dir_.path() / "prometheus.log").string());

  bool up = waitFor([&] { return targetsWithHealth("up") == 2; }, std::chrono::seconds(60));
  // Rules are loaded at start-up; wait for the first evaluation so the API lists them all.
  bool rules = waitFor(
      [&] {
        auto r = http_.get(prometheusUrl() + "/api/v1/rules", std::chrono::seconds(2));
        return r && r->body.find("job:up:sum") != std::string::npos;
      },
      std::chrono::seconds(30));
  bool am = waitFor(
      [&] {
        auto r = http_.get(prometheusUrl() + "/api/v1/alertmanagers", std::chrono::seconds(2));
        auto s = http_.get(alertmanagerUrl() + "/api/v2/status", std::chrono::seconds(2));
        return r && r->body.find(std::to_string(am_port_)) != std::string::npos && s &&
               s->status == 200;
      },
      std::chrono::seconds(30));
  if (up && rules && am) return "";
  return "Prometheus stack did not come up. prometheus.log:\n" + prometheus_->log() +
         "\nnode_exporter.log:\n" + node_->log() + "\nalertmanager.log:\n" +
         alertmanager_->log();
}

void PrometheusStack::stopNodeExporter() { node_.reset(); }
void PrometheusStack::stopPrometheus() { prometheus_.reset(); }

std::string PrometheusStack::restartPrometheus() {
  prometheus_.reset();
  prometheus_ = std::make_unique<Process>(prometheus_argv_,
                                          (dir_.path() / "prometheus-restarted.log").string());
  bool answers = waitFor(
      [&] {
        return http_.get(prometheusUrl() + "/api/v1/status/runtimeinfo", std::chrono::seconds(1))
            .ok();
      },
      std::chrono::seconds(30));
  return answers ? "" : "Prometheus did not come back: " + prometheus_->log();
}

std::string PrometheusStack::rewriteRules(const std::string& rules_yaml,
                                          const std::string& expect_names) {
  dir_.write("rules.yml", rules_yaml);
  ::kill(prometheus_->pid(), SIGHUP);
  std::string listed;
  bool reloaded = waitFor(
      [&] {
        auto r = http_.get(prometheusUrl() + "/api/v1/rules", std::chrono::seconds(2));
        if (!r) return false;
        listed.clear();
        // Rule names (group names are followed by "file", rules by "query").
        static const std::regex rule("\"name\":\"([^\"]+)\",\"query\"");
        for (auto it = std::sregex_iterator(r->body.begin(), r->body.end(), rule);
             it != std::sregex_iterator(); ++it) {
          listed += (listed.empty() ? "" : "|") + (*it)[1].str();
        }
        return listed == expect_names;
      },
      std::chrono::seconds(30));
  return reloaded ? "" : "Prometheus did not reload its rules (lists '" + listed + "')";
}

}  // namespace opsm::testing
