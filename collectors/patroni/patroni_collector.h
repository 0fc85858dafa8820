#pragma once

#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::patroni {

struct PatroniConfig {
  std::string name;
  std::string system;             // the system whose database the cluster is
  std::vector<std::string> urls;  // REST API of the members, tried in order
  HttpOptions http;
};

// A Patroni cluster (Patroni 3.x REST API: /cluster, /config, /history of any member): its
// members, leader, replicas and their lag, synchronous mode, whether failover is automatic
// now, and its failover history (docs/collectors/patroni.md).
class PatroniCollector : public Collector {
 public:
  explicit PatroniCollector(PatroniConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  PatroniConfig config_;
  HttpClient http_;
};

Status registerPatroni(Registry& registry);

}  // namespace opsm::collectors::patroni
