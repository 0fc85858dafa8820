#include "collectors/alertmanager/alertmanager_collector.h"
#include "collectors/collector.h"
#include "collectors/prometheus/prometheus_collector.h"

namespace opsm::collectors {

Status registerAll(Registry& registry) {
  for (auto* reg : {&prometheus::registerPrometheus, &alertmanager::registerAlertmanager}) {
    if (auto st = reg(registry); !st) return st;
  }
  return Status::success();
}

}  // namespace opsm::collectors
