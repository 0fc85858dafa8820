#include "collectors/collector.h"
#include "collectors/prometheus/prometheus_collector.h"

namespace opsm::collectors {

Status registerAll(Registry& registry) {
  for (auto* reg : {&prometheus::registerPrometheus}) {
    if (auto st = reg(registry); !st) return st;
  }
  return Status::success();
}

}  // namespace opsm::collectors
