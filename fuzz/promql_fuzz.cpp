// PromQL rule expressions as a Prometheus server sends them (/api/v1/rules): the selector lexer
// that attributes rules to systems, the matchers it builds, and the topic classifier. A rule
// text is not trusted: any bytes must give selectors or none, never a hang or a crash.
#include <cstdint>
#include <string>

#include "collectors/prometheus/prometheus_collector.h"
#include "collectors/prometheus/promql_selectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace opsm::collectors::prometheus;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> scope = {"job", "instance", "system"};
  const std::map<std::string, std::string> target = {
      {"job", "api"}, {"instance", "10.0.0.1:9100"}, {"system", "payments"}};
  for (const auto& sel : vectorSelectors(text)) {
    bool scoped = false;
    (void)selects(sel.matchers, scope, target, &scoped);
    for (const auto& m : sel.matchers) (void)m.selective();
  }
  (void)alertTopicsOf(text);
  return 0;
}
