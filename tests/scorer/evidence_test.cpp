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


// Two Prometheus servers: each has targets of one system and says "no targets" of any other
// (the default). A server's default never hides the other's targets, makes no system, and
// goes with the server's next poll.
TEST(EvidenceStoreTest, DefaultsFillOnlyWhatNoSourceReportsOfTheSystem) {
  EvidenceStore store;
  const auto ttl = std::chrono::minutes(5);
  store.replaceFromCollector(
      "prom-a", toEvidence("prom-a", {Fact{"targets", "payments", 3.0, "a/targets"},
                                      Fact{"targets", kAnySystem, 0.0, "a/targets"},
                                      Fact{"rules", kAnySystem, 2.0, "a/rules"}},
                           kNow, ttl));
  store.replaceFromCollector(
      "prom-b", toEvidence("prom-b", {Fact{"targets", "ledger", 5.0, "b/targets"},
                                      Fact{"targets", kAnySystem, 0.0, "b/targets"}},
                           kNow + std::chrono::seconds(1), ttl));
  EXPECT_EQ(store.systems(), (std::vector<std::string>{"ledger", "payments"}));

  auto payments = store.snapshot("payments");
  EXPECT_EQ(payments.at("targets").value, Value(3.0));
  EXPECT_EQ(payments.at("targets").source.collector, "prom-a");
  EXPECT_EQ(payments.at("rules").value, Value(2.0));  // only a default says it
  EXPECT_EQ(payments.at("rules").system, "payments");
  EXPECT_EQ(store.snapshot("ledger").at("targets").value, Value(5.0));
  // A system neither server knows: the newest default (prom-b's), in its name.
  auto crm = store.find("crm", "targets");
  ASSERT_TRUE(crm.has_value());
  EXPECT_EQ(crm->value, Value(0.0));
  EXPECT_EQ(crm->system, "crm");
  EXPECT_EQ(crm->source.collector, "prom-b");

  // prom-a's next poll has no defaults: they are gone, prom-b's remain.
  store.replaceFromCollector("prom-a", toEvidence("prom-a", {Fact{"targets", "payments", 4.0, "a"}},
                                                  kNow + std::chrono::seconds(2), ttl));
  EXPECT_FALSE(store.find("crm", "rules").has_value());
  EXPECT_EQ(store.find("crm", "targets")->source.collector, "prom-b");
  EXPECT_EQ(store.find("payments", "targets")->value, Value(4.0));
}

// A collector's evidence is replaced without touching what another source wrote since into
// the same slot (the most recent poll wins).
TEST(EvidenceStoreTest, ASlotAnotherSourceWroteSinceIsTheirs) {
  EvidenceStore store;
  const auto ttl = std::chrono::minutes(5);
  store.replaceFromCollector("a", toEvidence("a", {Fact{"k", "s", 1.0, "a"}}, kNow, ttl));
  store.replaceFromCollector("b", toEvidence("b", {Fact{"k", "s", 2.0, "b"}}, kNow, ttl));
  store.replaceFromCollector("a", toEvidence("a", {}, kNow, ttl));
  ASSERT_TRUE(store.find("s", "k").has_value());
  EXPECT_EQ(store.find("s", "k")->source.collector, "b");
  store.replaceFromCollector("b", toEvidence("b", {}, kNow, ttl));
  EXPECT_FALSE(store.find("s", "k").has_value());
  EXPECT_TRUE(store.systems().empty());
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
