#pragma once

#include <memory>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"
#include "collectors/prometheus/rule_attribution.h"
#include "common/regex.h"

namespace opsm::collectors::prometheus {

struct PrometheusConfig {
  std::string name;
  std::string url;  // base URL, e.g. http://127.0.0.1:9090
  SystemMapping mapping;
  std::string severity_label = "severity";
  std::string node_metric = "node_cpu_seconds_total";
  // Kinds of telemetry ("signals") and the metric names that show a target provides them;
  // see defaultSignals() and docs/collectors/prometheus.md.
  std::vector<std::pair<std::string, std::vector<std::string>>> signals;
  HttpOptions http;
};

// Polls the Prometheus HTTP API (targets, rules, alertmanagers, TSDB and config status, one
// query) and turns it into monitoring.prometheus.* facts per system.
// The evidence keys are listed in docs/collectors/prometheus.md.
class PrometheusCollector : public Collector {
 public:
  explicit PrometheusCollector(PrometheusConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  Result<std::vector<scorer::Fact>> collectFacts(const CollectContext& ctx);
  // GETs `path` and unwraps the API's {"status":"success","data":...} envelope.
  Result<rapidjson::Document> api(const std::string& path, const CollectContext& ctx,
                                  std::string* locator) const;
  std::string systemOf(const std::map<std::string, std::string>& labels) const;

  PrometheusConfig config_;
  HttpClient http_;
};

// What an alerting rule's expression watches (the alert_topics evidence): target_down,
// capacity, prediction, anomaly, slo, latency, errors, probe.
std::set<std::string> alertTopicsOf(const std::string& expr);

// The built-in signal kinds: logs, tracing, probe, http, application, http_traffic, middleware, load_balancer,
// autoscaling, container, node.
std::vector<std::pair<std::string, std::vector<std::string>>> defaultSignals();

Status registerPrometheus(Registry& registry);

}  // namespace opsm::collectors::prometheus
