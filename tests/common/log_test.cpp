#include "common/log.h"

#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include <gtest/gtest.h>

#include "common/secrets.h"

namespace opsm {
namespace {

TEST(Log, EveryLineIsRedactedBeforeAnySinkSeesIt) {
  registerSecret("hunter2-the-token");
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto log = logger("logtest");
  log->sinks().push_back(sink);  // a sink added after the logger was made is covered too
  log->warn("server said: {} and {}", "hunter2-the-token", "http://u:p@h/x");
  log->sinks().pop_back();
  clearSecretsForTesting();
  EXPECT_EQ(out.str().find("hunter2"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("u:p@"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("server said: REDACTED and http://REDACTED@h/x"), std::string::npos)
      << out.str();
}

}  // namespace
}  // namespace opsm
