#pragma once

#include <string>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::loki {

struct LokiConfig {
  std::string name;
  std::string url;                    // http://loki:3100
  std::string system_label = "system";  // the stream label whose value names the system
  // LogQL label matchers (without braces) marking a system's application log streams, e.g.
  // `source="app"`; empty: application logs are not told apart.
  std::string application_matchers;
  Duration window = std::chrono::hours(1);  // a stream counts when it received lines within
  HttpOptions http;                         // tenant: extra_headers X-Scope-OrgID
};

// Grafana Loki 2.x through its HTTP API: per system (by a stream label), its log streams, the
// lines received within the window, the newest line's age, application streams, retention
// (docs/collectors/loki.md).
class LokiCollector : public Collector {
 public:
  explicit LokiCollector(LokiConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  LokiConfig config_;
  HttpClient http_;
};

Status registerLoki(Registry& registry);

}  // namespace opsm::collectors::loki
