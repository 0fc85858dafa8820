#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace opsm {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

// The longest duration read (100 years) and the years of dates and timestamps accepted:
// beyond them the nanosecond time points of the clock overflow (undefined behaviour).
inline constexpr long long kMaxDurationMs = 100LL * 366 * 86'400'000;
inline constexpr int kMinYear = 1970;
inline constexpr int kMaxYear = 2199;

// Parses a Prometheus-style duration: "90s", "5m", "1h30m", "7d", "2w", "500ms".
// A bare number is rejected: units are required so that "60" is never ambiguous. More than
// kMaxDurationMs is an error.
Result<Duration> parseDuration(std::string_view text);

// Formats a duration the way parseDuration reads it ("1h30m", "45s", "0s").
std::string formatDuration(Duration d);

double toSeconds(TimePoint t);

// Parses a UTC date "2026-10-01" (midnight) or time "2026-10-01T08:30:00Z"; the year must be
// kMinYear..kMaxYear (dates and timestamps alike).
Result<TimePoint> parseDate(std::string_view text);
// Parses an ISO 8601 / RFC 3339 timestamp as APIs and tools print them:
// "2026-11-25T02:53:47.510362134Z", "2021-01-17T12:34:00.000+0000", "2026-11-25T10:00:00+08:00".
// Without a zone the time is taken as UTC, or as local time when `naive_is_local` is set
// (borg prints local times without a zone).
Result<TimePoint> parseTimestamp(std::string_view text, bool naive_is_local = false);

// Formats as "2026-10-01T08:30:00Z".
std::string formatTime(TimePoint t);
double toSeconds(Duration d);

}  // namespace opsm
