#pragma once

#include <memory>
#include <string>

#include <rapidjson/document.h>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"
#include "collectors/prometheus/rule_attribution.h"

namespace opsm::collectors::alertmanager {

struct AlertmanagerConfig {
  std::string name;
  std::string url;                      // base URL, e.g. http://127.0.0.1:9093
  std::string system_label = "system";  // the alert label naming the system
  // The Prometheus whose alerting rules send here: the label sets of the alerts each system
  // can send (empty: only their system label is known).
  std::string prometheus_url;
  prometheus::SystemMapping prometheus_mapping;
  HttpOptions http;
};

// Polls the Alertmanager v2 API (/api/v2/status, /api/v2/alerts, /api/v2/silences) and
// reports, per system, where its alerts can be routed and how they are managed. The evidence
// keys are listed in docs/collectors/alertmanager.md.
class AlertmanagerCollector : public Collector {
 public:
  explicit AlertmanagerCollector(AlertmanagerConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  Result<std::vector<scorer::Fact>> collectFacts(const CollectContext& ctx);
  Result<rapidjson::Document> get(const std::string& path, const CollectContext& ctx,
                                  std::string* locator) const;
  AlertmanagerConfig config_;
  HttpClient http_;
  HttpClient prometheus_http_;  // for prometheus_url: the same TLS settings, no credentials
};

Status registerAlertmanager(Registry& registry);

}  // namespace opsm::collectors::alertmanager
