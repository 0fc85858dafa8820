// The RE2 wrapper used wherever a pattern or the text it is matched against comes from a
// source: hostile inputs that crashed or stalled std::regex.
#include "common/regex.h"

#include <gtest/gtest.h>

#include <chrono>

namespace opsm {
namespace {

TEST(Regex, MatchesFullyOrPartiallyWithCaseAndGroups) {
  auto re = Regex::compile("pay(ments)?-.*");
  ASSERT_TRUE(re.ok()) << re.error().message;
  EXPECT_TRUE(re->fullMatch("payments-api"));
  EXPECT_FALSE(re->fullMatch("xpayments-api"));
  EXPECT_TRUE(re->partialMatch("xpayments-api"));
  std::string group;
  EXPECT_TRUE(re->firstGroup("payments-api", &group));
  EXPECT_EQ(group, "ments");
  auto icase = Regex::compile("SLO", Regex::Case::kInsensitive);
  EXPECT_TRUE(icase->partialMatch("job:slo_errors:ratio"));
  std::string text = "GET http://u:pw@host/x and http://a:b@c";
  EXPECT_EQ(Regex::compile(R"(://[^/@\s]+@)")->replaceAll(&text, "://***@"), 2);
  EXPECT_EQ(text, "GET http://***@host/x and http://***@c");
}

TEST(Regex, BadPatternsAreErrorsNamingThePattern) {
  auto bad = Regex::compile("(unclosed");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("invalid regular expression '(unclosed'"), std::string::npos)
      << bad.error().message;
  // 200,000 nested groups (an Alertmanager match_re) overflowed the stack of std::regex
  // compiling it; RE2 compiles it (or refuses it past its memory budget), without a crash.
  std::string nested = std::string(200'000, '(') + "a" + std::string(200'000, ')');
  if (auto r = Regex::compile(nested)) {
    EXPECT_TRUE(r->fullMatch("a"));
  }
  EXPECT_FALSE(Regex::compile(std::string(200'000, '(')).ok());
}

TEST(Regex, HostileTextIsMatchedInLinearTime) {
  // (a|aa)*c against a's: exponential for a backtracking engine (12 s at 38 characters).
  auto redos = Regex::compile("(a|aa)*c");
  ASSERT_TRUE(redos.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(redos->fullMatch(std::string(5000, 'a')));
  // A 200 KB string against "a.*" and a rule text with 100,000 spaces: std::regex recursed
  // once per character and overflowed the stack.
  EXPECT_TRUE(Regex::compile("a.*")->fullMatch("a" + std::string(200'000, 'b')));
  EXPECT_TRUE(Regex::compile(R"(up\s*==)")->partialMatch("up" + std::string(100'000, ' ') + "== 0"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace opsm
