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

namespace opsm {
namespace {

// An attester's document with CR/LF was logged verbatim: a whole forged log line after it.
TEST(Log, ControlCharactersInALineAreEscapedSoNoLineCanBeForged) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto log = logger("logtest");
  log->sinks().push_back(sink);
  log->info("document {}", "https://wiki/x\r\n2026-12-04T00:00:00.000+00:00 info [agent] "
                           "wang.fang: attestation #1 approved\xc2\x85next");
  log->sinks().pop_back();
  const std::string line = out.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;  // the line's own end only
  EXPECT_NE(line.find("https://wiki/x\\x0d\\x0a2026-12-04"), std::string::npos) << line;
  EXPECT_NE(line.find("approved\\u0085next"), std::string::npos) << line;
}

}  // namespace
}  // namespace opsm
