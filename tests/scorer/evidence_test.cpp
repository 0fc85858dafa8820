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


// Two Prometheus servers: each has targets of one system and says "no targets" and "2 rules"
// of the systems it knows without a target (the default). A server's default counts only for
// the systems it knows: never for another server's system, never for a system nobody knows;
// it makes no system, and goes with the server's next poll.
TEST(EvidenceStoreTest, DefaultsCountOnlyForTheSystemsTheirSourceKnows) {
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
  EXPECT_EQ(payments.at("rules").value, Value(2.0));  // only prom-a's default says it
  EXPECT_EQ(payments.at("rules").system, "payments");
  EXPECT_EQ(store.snapshot("ledger").at("targets").value, Value(5.0));
  // prom-a's default is not about ledger, which only prom-b knows.
  EXPECT_FALSE(store.find("ledger", "rules").has_value());
  // A system neither server knows: nothing at all, not "0 targets" and not "2 rules".
  EXPECT_FALSE(store.find("crm", "targets").has_value());
  EXPECT_FALSE(store.find("crm", "rules").has_value());
  EXPECT_TRUE(store.snapshot("crm").empty());
  EXPECT_TRUE(store.knownBy("crm").empty());
  EXPECT_EQ(store.knownBy("payments"), (std::vector<std::string>{"prom-a"}));

  // prom-a's next poll has no defaults: they are gone.
  store.replaceFromCollector("prom-a", toEvidence("prom-a", {Fact{"targets", "payments", 4.0, "a"}},
                                                  kNow + std::chrono::seconds(2), ttl));
  EXPECT_FALSE(store.find("payments", "rules").has_value());
  EXPECT_EQ(store.find("payments", "targets")->value, Value(4.0));
  // prom-a no longer reports payments: it no longer knows it.
  store.replaceFromCollector("prom-a", toEvidence("prom-a", {}, kNow, ttl));
  EXPECT_TRUE(store.knownBy("payments").empty());
  EXPECT_EQ(store.knownBy("ledger"), (std::vector<std::string>{"prom-b"}));
}

// An Alertmanager that routes a Prometheus server's alerts knows that server's systems
// (systems_from): its route-tree default counts for them, and for no other system.
TEST(EvidenceStoreTest, ASourceKnowsTheSystemsOfTheSourcesItIsDeclaredToServe) {
  EvidenceStore store;
  const auto ttl = std::chrono::minutes(5);
  store.setSystemsFrom("am", {"prom"});
  store.replaceFromCollector("prom", toEvidence("prom", {Fact{"targets", "payments", 3.0, "t"}},
                                                kNow, ttl));
  store.replaceFromCollector("am", toEvidence("am", {Fact{"receivers", kAnySystem, 2.0, "s"}},
                                              kNow, ttl));
  store.replaceFromCollector("cmdb", toEvidence("cmdb", {Fact{"ci", "crm", true, "c"}}, kNow, ttl));
  EXPECT_EQ(store.find("payments", "receivers")->value, Value(2.0));
  EXPECT_FALSE(store.find("crm", "receivers").has_value());
  EXPECT_EQ(store.knownBy("payments"), (std::vector<std::string>{"am", "prom"}));
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

namespace opsm::scorer {
namespace {

std::vector<Evidence> poll(const std::vector<Fact>& facts, TimePoint at) {
  return toEvidence("prom", facts, at, std::chrono::minutes(5));
}

TEST(EvidenceChangesTest, ARePollSayingTheSameChangesNoSystemOneValueChangesOne) {
  EvidenceStore store;
  const std::vector<Fact> facts = {{"a", "s1", 1.0, "/q"}, {"a", "s2", 2.0, "/q"}, {"b", "s2", true, "/q"}};
  store.replaceFromCollector("prom", poll(facts, kNow), kNow);
  EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s1", "s2"}));
  EXPECT_TRUE(store.takeChanges().systems.empty());  // taken

  const TimePoint later = kNow + std::chrono::minutes(1);
  store.replaceFromCollector("prom", poll(facts, later), later);
  auto changes = store.takeChanges();
  EXPECT_TRUE(changes.systems.empty());
  EXPECT_FALSE(changes.defaults);

  auto changed = facts;
  changed[2].value = false;
  store.replaceFromCollector("prom", poll(changed, later), later);
  EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s2"}));
  // A key that goes, a system that goes.
  store.replaceFromCollector("prom", poll({changed[0]}, later), later);
  EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s2"}));
}

TEST(EvidenceChangesTest, ExpiredEvidenceRenewedTimedKeysDefaultsAndOtherSourcesCount) {
  EvidenceStore store;
  store.setTimedKeys({"t"});
  const std::vector<Fact> facts = {{"a", "s1", 1.0, "/q"}, {"t", "s2", 1.0, "/q"}};
  store.replaceFromCollector("prom", poll(facts, kNow), kNow);
  store.takeChanges();
  // s1's evidence had expired when the poll came (the source was down for 10 minutes): the
  // same value is news. s2's key is timed: its observation time counts.
  const TimePoint later = kNow + std::chrono::minutes(10);
  store.replaceFromCollector("prom", poll(facts, later), later);
  EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s1", "s2"}));

  // Defaults: the same again changes nothing, a new value changes them.
  std::vector<Fact> with_default = facts;
  with_default.push_back({"d", kAnySystem, 3.0, "/q"});
  store.replaceFromCollector("prom", poll(with_default, later), later);
  EXPECT_TRUE(store.takeChanges().defaults);
  store.replaceFromCollector("prom", poll(with_default, later), later);
  EXPECT_FALSE(store.takeChanges().defaults);
  with_default.back().value = 4.0;
  store.replaceFromCollector("prom", poll(with_default, later), later);
  EXPECT_TRUE(store.takeChanges().defaults);

  // Another source taking over a key (last writer) changes the system; a renewed attestation
  // (not polled) with a later expiry too, though its value is the same.
  store.replaceFromCollector("zbx", toEvidence("zbx", {{"a", "s1", 1.0, "/z"}}, later,
                                               std::chrono::minutes(5)), later);
  EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s1"}));
  for (int days : {30, 60}) {
    store.replaceFromCollector("attestations",
                               toEvidence("attestations", {{"attestation.x", "s3", true, "wiki"}},
                                          later, std::chrono::hours(24 * days),
                                          SourceKind::kAttestationFile),
                               later);
    EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s3"})) << days;
  }
  // put() always counts.
  Evidence e = poll({{"a", "s4", 1.0, "/q"}}, later).front();
  store.put(e);
  EXPECT_EQ(store.takeChanges().systems, (std::set<std::string>{"s4"}));
}

}  // namespace
}  // namespace opsm::scorer

#include "scorer/json.h"

namespace opsm::scorer {
namespace {

// RapidJSON's own allocator does not check realloc: running out of memory while rendering
// wrote through a null pointer. The buffer's allocator throws std::bad_alloc, which the
// server answers with 503. (Under AddressSanitizer an impossible allocation aborts by design,
// so the failing allocation is asked for only without it.)
TEST(CheckedAllocator, AnAllocationThatFailsThrowsInsteadOfReturningNull) {
  json::CheckedAllocator a;
  void* p = a.Malloc(16);
  ASSERT_NE(p, nullptr);
  p = a.Realloc(p, 16, 64);
  ASSERT_NE(p, nullptr);
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_THROW(a.Realloc(p, 64, SIZE_MAX / 2), std::bad_alloc);
  EXPECT_THROW(a.Malloc(SIZE_MAX / 2), std::bad_alloc);
#endif
  json::CheckedAllocator::Free(p);
}

}  // namespace
}  // namespace opsm::scorer
