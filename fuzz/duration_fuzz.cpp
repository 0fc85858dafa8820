// Durations ("90d", "1h30m") and dates/timestamps as configs, rule files and sources write them.
#include <cstdint>
#include <string_view>

#include "common/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = opsm::parseDuration(text)) (void)opsm::formatDuration(*d);
  (void)opsm::parseDate(text);
  (void)opsm::parseTimestamp(text);
  (void)opsm::parseTimestamp(text, /*naive_is_local=*/true);
  return 0;
}
