// Plugin output: a fact document in JSON or YAML (yaml-cpp, duplicate-key check, fact rules).
#include <cstdint>
#include <string>

#include "collectors/common/fact_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)opsm::collectors::parseFactText(text, "plugin.", "fuzz output", "fuzz");
  return 0;
}
