#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/common/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace opsm::testing {

// A real node_exporter, a real Prometheus and a real Alertmanager (from Debian's packages) on
// free 127.0.0.1 ports, with a scrape config and rule file written by the test:
//   job "node"       -> node_exporter, target label system=payments
//   job "prometheus" -> Prometheus itself, target label system=monitoring
//   rules: 2 alerting rules of system payments (critical, warning; both with runbook_url),
//          1 alerting rule without a system label (`up == 0`, severity info, no runbook: a
//          platform rule, nobody's),
//          1 recording rule over job "node" (payments').
//   Prometheus sends its alerts to the Alertmanager, which routes payments' alerts
//   (system="payments") to a receiver with e-mail and webhook integrations, everything else
//   to `null`.
// Scrape and rule evaluation intervals are 1s so changes show quickly.
class PrometheusStack {
 public:
  PrometheusStack();
  ~PrometheusStack();

  // Starts both servers and waits until Prometheus reports both targets up.
  // Returns "" on success, else what went wrong with the servers' logs.
  std::string start();

  void stopNodeExporter();
  void stopPrometheus();
  // Starts Prometheus again on the same port and storage (after stopPrometheus(), or stopping
  // it first), returning as soon as its HTTP API answers: before its first scrape.
  std::string restartPrometheus();
  // Replaces the rule file and makes Prometheus reload it (SIGHUP); waits until the rules API
  // lists exactly the rules named in `expect_names` (a '|'-separated list, "" for none).
  std::string rewriteRules(const std::string& rules_yaml, const std::string& expect_names);

  std::string prometheusUrl() const;
  std::string alertmanagerUrl() const;
  unsigned short nodePort() const { return node_port_; }
  const TempDir& dir() const { return dir_; }

  // Number of active targets whose health is "up" ("down" when `health` says so).
  int targetsWithHealth(const std::string& health) const;

 private:
  TempDir dir_;
  unsigned short node_port_ = 0;
  unsigned short prom_port_ = 0;
  unsigned short am_port_ = 0;
  std::unique_ptr<Process> alertmanager_;
  std::unique_ptr<Process> node_;
  std::unique_ptr<Process> prometheus_;
  std::vector<std::string> prometheus_argv_;
  collectors::HttpClient http_;
};

}  // namespace opsm::testing
