#include "common/duration.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace opsm {

Result<Duration> parseDuration(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid duration '" + std::string(text) + "': " + why +
                         " (use units ms, s, m, h, d, w, e.g. \"30s\" or \"1h30m\")");
  };
  if (text.empty()) return bad("empty");
  std::int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad("expected a number");
    std::int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000'000LL) return bad("too large");
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    std::int64_t ms_per = 0;
    if (unit == "ms") ms_per = 1;
    else if (unit == "s") ms_per = 1000;
    else if (unit == "m") ms_per = 60'000;
    else if (unit == "h") ms_per = 3'600'000;
    else if (unit == "d") ms_per = 86'400'000;
    else if (unit == "w") ms_per = 7 * 86'400'000LL;
    else if (unit.empty()) return bad("missing unit");
    else return bad("unknown unit '" + std::string(unit) + "'");
    // At most 100 years in all: more overflows time arithmetic and means nothing here.
    if (n > kMaxDurationMs / ms_per || total_ms + n * ms_per > kMaxDurationMs) {
      return bad("too large (at most 100 years)");
    }
    total_ms += n * ms_per;
  }
  return Duration(total_ms);
}

std::string formatDuration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& [size, name] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

Result<TimePoint> parseDate(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  char tail = 0;
  std::string s(text);
  int n = 0;
  bool ok = false;
  if (s.size() == 10) {
    ok = std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10;
  } else if (s.size() == 20) {
    ok = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail) ==
             7 &&
         tail == 'Z';
  }
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid date '" + s + "' (use 2026-10-01 or 2026-10-01T08:30:00Z)");
  }
  if (y < kMinYear || y > kMaxYear) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid date '" + s + "': the year must be from " +
                         std::to_string(kMinYear) + " to " + std::to_string(kMaxYear));
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != d) return makeError(ErrorCode::kInvalidArgument, "invalid date '" + s + "'");
  return Clock::from_time_t(t);
}

Result<TimePoint> parseTimestamp(std::string_view text, bool naive_is_local) {
  std::string s(text);
  auto bad = [&] {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid timestamp '" + s.substr(0, 64) + "' (expected ISO 8601)");
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) !=
          6 ||
      n != 19) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad();
  if (y < kMinYear || y > kMaxYear) return bad();  // outside what time arithmetic holds
  size_t i = 19;
  long long nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (digits < 9) nanos = nanos * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return bad();
    for (int k = std::min(digits, 9); k < 9; ++k) nanos *= 10;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  std::time_t t = 0;
  if (i == s.size()) {
    if (naive_is_local) {
      tm.tm_isdst = -1;
      t = std::mktime(&tm);
    } else {
      t = timegm(&tm);
    }
  } else if (s[i] == 'Z' && i + 1 == s.size()) {
    t = timegm(&tm);
  } else if (s[i] == '+' || s[i] == '-') {
    int oh = 0, om = 0;
    std::string zone = s.substr(i + 1);
    if (zone.size() == 5 && zone[2] == ':') zone.erase(2, 1);
    if (zone.size() != 4 || !std::all_of(zone.begin(), zone.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        })) {
      return bad();
    }
    oh = std::stoi(zone.substr(0, 2));
    om = std::stoi(zone.substr(2, 2));
    int offset = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    t = timegm(&tm) - offset;
  } else {
    return bad();
  }
  return Clock::from_time_t(t) +
         std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(nanos));
}

std::string formatTime(TimePoint t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double toSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

double toSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace opsm
