#include "scorer/evidence.h"

#include <gtest/gtest.h>

namespace opsm::scorer {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

TEST(EvidenceStoreTest, ReplaceFromCollectorKeepsOtherCollectors) {
  EvidenceStore store;
  store.replaceFromCollector(
      "prom", toEvidence("prom", {Fact{"a", "s1", 1.0, "/q"}, Fact{"b", "s2", 2.0, "/q"}}, kNow,
                         std::chrono::minutes(5)));
  store.replaceFromCollector("file", toEvidence("file", {Fact{"c", "s1", true, "f.yaml"}}, kNow,
                                                std::chrono::minutes(5)));
  EXPECT_EQ(store.systems(), (std::vector<std::string>{"s1", "s2"}));

  // The next poll of "prom" no longer reports s2: its evidence goes, "file"'s stays.
  store.replaceFromCollector("prom", toEvidence("prom", {Fact{"a", "s1", 3.0, "/q"}}, kNow,
                                                std::chrono::minutes(5)));
  EXPECT_EQ(store.systems(), (std::vector<std::string>{"s1"}));
  auto a = store.find("s1", "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value, Value(3.0));
  EXPECT_EQ(a->source.collector, "prom");
  EXPECT_EQ(a->source.locator, "/q");
  EXPECT_EQ(a->expires_at - a->observed_at, std::chrono::minutes(5));
  EXPECT_TRUE(store.find("s1", "c").has_value());
  EXPECT_FALSE(store.find("s2", "b").has_value());
}

TEST(ValueTest, Rendering) {
  EXPECT_EQ(Value(true).toString(), "true");
  EXPECT_EQ(Value(3.0).toString(), "3");
  EXPECT_EQ(Value(0.25).toString(), "0.25");
  EXPECT_EQ(Value("x").toString(), "\"x\"");
  EXPECT_EQ(Value(StringList{"a", "b"}).toString(), "[\"a\", \"b\"]");
}

}  // namespace
}  // namespace opsm::scorer
