// An API request body through the declared schemas (agent/exposition/requests.h): attestations
// (one or a list) and waivers. The oracle: what a schema accepts holds no control character.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/exposition/requests.h"
#include "common/log.h"

namespace {

void check(const YAML::Node& root) {
  std::vector<YAML::Node> todo{root};
  while (!todo.empty()) {
    YAML::Node n = todo.back();
    todo.pop_back();
    if (n.IsScalar() && opsm::hasControlCharacter(n.Scalar())) std::abort();
    if (n.IsMap()) {
      for (const auto& kv : n) todo.push_back(kv.second);
    } else if (n.IsSequence()) {
      for (const auto& item : n) todo.push_back(item);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  if (auto a = opsm::agent::readJsonBody(body, "attestations",
                                         opsm::agent::attestationBodySchema())) {
    check(*a);
  }
  if (auto w = opsm::agent::readJsonBody(body, opsm::agent::waiverBodySchema())) check(*w);
  return 0;
}
