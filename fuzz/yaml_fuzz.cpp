// Any YAML through the bounded reader (common/yaml_util.h): alias expansion counted against
// the limits, duplicate keys, syntax errors. The oracle: a document the reader accepts walks,
// aliases expanded, in no more nodes than its limit (a walk is what every reader does).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/yaml_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  opsm::YamlLimits limits;
  limits.max_nodes = 20000;
  limits.max_bytes = 1u << 20;
  auto doc = opsm::loadYamlString(text, "fuzz.yaml", limits);
  if (!doc) return 0;
  size_t nodes = 0;
  std::vector<YAML::Node> todo{*doc};
  while (!todo.empty()) {
    YAML::Node n = todo.back();
    todo.pop_back();
    if (++nodes > limits.max_nodes) std::abort();  // the limit did not hold
    if (n.IsMap()) {
      for (const auto& kv : n) {
        todo.push_back(kv.first);
        todo.push_back(kv.second);
      }
    } else if (n.IsSequence()) {
      for (const auto& item : n) todo.push_back(item);
    }
  }
  return 0;
}
