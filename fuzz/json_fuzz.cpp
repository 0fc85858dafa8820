// JSON from sources: parseJson (depth-bounded, iterative) and the nesting pre-scan.
#include <cstdint>
#include <string>

#include "collectors/common/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)opsm::collectors::jsonNestingDepth(text, opsm::collectors::kMaxJsonDepth);
  auto doc = opsm::collectors::parseJson(text, "fuzz");
  if (doc && doc->IsObject()) (void)opsm::collectors::stringMember(*doc, "status");
  return 0;
}
