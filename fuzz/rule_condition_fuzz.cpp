// A rule condition as written in a rule file: compiled (RE2 for 'matches') and evaluated
// against evidence of every type, with an explanation.
#include <cstdint>
#include <map>
#include <string>

#include "common/yaml_util.h"
#include "scorer/engine.h"

namespace {

std::map<std::string, opsm::scorer::Evidence> evidence() {
  using namespace opsm::scorer;
  const opsm::TimePoint now = opsm::TimePoint(std::chrono::seconds(1'800'000'000));
  std::map<std::string, Evidence> out;
  auto put = [&](const std::string& key, Value v) {
    Evidence e;
    e.key = key;
    e.system = "sys";
    e.value = std::move(v);
    e.observed_at = now - std::chrono::minutes(1);
    e.expires_at = now + std::chrono::hours(1);
    e.source = Source{"fuzz", "unit"};
    out[key] = e;
  };
  put("n", 0.5);
  put("b", true);
  put("s", std::string("payments-api"));
  put("l", StringList{"a", "b", "c"});
  put("a.b", 3.0);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto kEvidence = evidence();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto node = opsm::loadYamlString(text, "fuzz.yaml");
  if (!node) return 0;
  auto condition = opsm::guardYaml("fuzz.yaml", [&] {
    return opsm::scorer::compileCondition("fuzz.yaml", *node);
  });
  if (!condition) return 0;
  opsm::scorer::EvalContext ctx{kEvidence, opsm::TimePoint(std::chrono::seconds(1'800'000'000))};
  std::string why;
  (void)opsm::scorer::evaluate(*condition, ctx, &why);
  return 0;
}
