#include "common/duration.h"

#include <gtest/gtest.h>

namespace opsm {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsPrometheusUnits) {
  EXPECT_EQ(*parseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*parseDuration("90s"), seconds(90));
  EXPECT_EQ(*parseDuration("5m"), minutes(5));
  EXPECT_EQ(*parseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*parseDuration("7d"), hours(7 * 24));
  EXPECT_EQ(*parseDuration("2w"), hours(14 * 24));
}

TEST(ParseDuration, RejectsMissingOrUnknownUnits) {
  auto bare = parseDuration("60");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("missing unit"), std::string::npos);
  auto unknown = parseDuration("3y");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown unit 'y'"), std::string::npos);
  EXPECT_FALSE(parseDuration("").ok());
  EXPECT_FALSE(parseDuration("-5s").ok());
  EXPECT_FALSE(parseDuration("s").ok());
}

TEST(FormatDuration, RoundTrips) {
  EXPECT_EQ(formatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(*parseDuration(formatDuration(hours(50))), hours(50));
}

}  // namespace
}  // namespace opsm

namespace opsm {
namespace {

double epoch(const Result<TimePoint>& t) { return toSeconds(t.value()); }

TEST(ParseTimestamp, ReadsTheFormsToolsAndApisPrint) {
  // 2026-11-25T02:53:47Z = 1795575227
  EXPECT_DOUBLE_EQ(epoch(parseTimestamp("2026-11-25T02:53:47Z")), 1795575227.0);
  EXPECT_NEAR(epoch(parseTimestamp("2026-11-25T02:53:47.510362134Z")), 1795575227.510362, 1e-5);
  EXPECT_DOUBLE_EQ(epoch(parseTimestamp("2026-11-25T10:53:47.000+0800")), 1795575227.0);
  EXPECT_DOUBLE_EQ(epoch(parseTimestamp("2026-11-25T01:53:47-01:00")), 1795575227.0);
  EXPECT_DOUBLE_EQ(epoch(parseTimestamp("2026-11-25 02:53:47")), 1795575227.0);
}

TEST(ParseTimestamp, RejectsGarbage) {
  for (const char* s : {"", "2026-11-25", "2026-13-01T00:00:00Z", "2026-11-25T02:53:47+8",
                        "2026-11-25T02:53:47Zjunk", "2026-11-25T02:53:47."}) {
    EXPECT_FALSE(parseTimestamp(s)) << s;
  }
}

}  // namespace
}  // namespace opsm

namespace opsm {
namespace {

// Values past what nanosecond time points hold were undefined behaviour (UBSan: signed
// overflow), and a ttl of 15000w expired every piece of evidence at once.
TEST(ParseDuration, RejectsWhatOverflowsTimeArithmetic) {
  for (const char* text : {"99999999999w", "15000w", "36600d1ms", "999999999999h"}) {
    auto d = parseDuration(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_NE(d.error().message.find("too large (at most 100 years)"), std::string::npos)
        << d.error().message;
  }
  EXPECT_TRUE(parseDuration("5200w").ok());
  EXPECT_TRUE(parseDuration("36500d").ok());
}

TEST(ParseDate, YearsOutsideTheClocksRangeAreErrors) {
  auto far = parseDate("9999-12-31");
  ASSERT_FALSE(far.ok());
  EXPECT_NE(far.error().message.find("the year must be from 1970 to 2199"), std::string::npos)
      << far.error().message;
  EXPECT_FALSE(parseDate("1969-12-31").ok());
  EXPECT_TRUE(parseDate("2199-12-31").ok());
  EXPECT_FALSE(parseTimestamp("9999-12-31T00:00:00Z").ok());
  EXPECT_TRUE(parseTimestamp("2026-11-25T02:53:47.510362134Z").ok());
}

}  // namespace
}  // namespace opsm
