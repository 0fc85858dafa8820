#pragma once

#include <string>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::grafana {

struct GrafanaConfig {
  std::string name;
  std::string url;                          // https://grafana.example.com
  std::string system_tag_prefix = "system:";  // a dashboard tagged system:payments is payments'
  int page_size = 1000;                     // /api/search limit (max 5000)
  int max_pages = 100;
  HttpOptions http;
};

// Reads Grafana's search and dashboard APIs and reports, per system, its dashboards and how
// they are built (template variables, panel types, links): visualization.grafana.* facts
// (docs/collectors/grafana.md).
class GrafanaCollector : public Collector {
 public:
  explicit GrafanaCollector(GrafanaConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  GrafanaConfig config_;
  HttpClient http_;
};

Status registerGrafana(Registry& registry);

}  // namespace opsm::collectors::grafana
