#include "scorer/domain.h"

#include <gtest/gtest.h>

#include "scorer/catalog.h"
#include "scorer/engine.h"
#include "scorer/evidence.h"
#include "scorer/rules.h"

namespace opsm::scorer {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));
const Duration kTtl = std::chrono::minutes(5);

const std::map<std::string, std::string> kPromMap = {
    {"monitoring.prometheus.alerting_rules", "monitoring.alert_rules"},
    {"monitoring.prometheus.alert_severities", "monitoring.alert_severities"}};
const std::map<std::string, std::string> kZabbixMap = {
    {"monitoring.zabbix.triggers", "monitoring.alert_rules"},
    {"monitoring.zabbix.trigger_severities", "monitoring.alert_severities"}};

// A poll as the agent stores it: the collector's facts plus their domain keys.
void poll(EvidenceStore& store, const std::string& collector,
          const std::map<std::string, std::string>& domain_of, std::vector<Fact> facts,
          TimePoint at = kNow) {
  auto evidence = toEvidence(collector, std::move(facts), at, kTtl);
  deriveDomainEvidence(domain_of, &evidence);
  store.replaceFromCollector(collector, std::move(evidence));
}

TEST(DomainKeysTest, TableIsSortedWithTwoSegmentKeys) {
  const auto& keys = domainKeys();
  ASSERT_GT(keys.size(), 50u);
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string_view k = keys[i].key;
    EXPECT_EQ(std::count(k.begin(), k.end(), '.'), 1) << k;
    if (i) {
      EXPECT_LT(std::string_view(keys[i - 1].key), k);
    }
    EXPECT_EQ(findDomainKey(k), &keys[i]);
  }
  EXPECT_EQ(findDomainKey("monitoring.prometheus.alerting_rules"), nullptr);
}

TEST(DomainKeysTest, DerivationKeepsTheVendorKeyAndNamesIt) {
  std::vector<Evidence> ev = toEvidence(
      "prom", {Fact{"monitoring.prometheus.alerting_rules", "pay", 3.0, "/api/v1/rules"}}, kNow,
      kTtl);
  deriveDomainEvidence(kPromMap, &ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].key, "monitoring.prometheus.alerting_rules");
  EXPECT_EQ(ev[1].key, "monitoring.alert_rules");
  EXPECT_EQ(ev[1].value, Value(3.0));
  EXPECT_EQ(ev[1].source.collector, "prom");
  EXPECT_EQ(ev[1].source.via, "monitoring.prometheus.alerting_rules");
  EXPECT_EQ(ev[1].source.locator, "/api/v1/rules");
  EXPECT_EQ(provenanceText(ev[1]), " (prom via monitoring.prometheus.alerting_rules)");
  EXPECT_EQ(provenanceText(ev[0]), "");
}

TEST(DomainKeysTest, ADomainKeyTheCollectorReportsItselfWinsOverADerivation) {
  std::vector<Evidence> ev =
      toEvidence("prom",
                 {Fact{"monitoring.prometheus.alerting_rules", "pay", 3.0, "/rules"},
                  Fact{"monitoring.alert_rules", "pay", 7.0, "computed"}},
                 kNow, kTtl);
  deriveDomainEvidence(kPromMap, &ev);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].value, Value(7.0));
}

// The same system watched by Prometheus and Zabbix: the domain key is their merge, which
// names both; when one source stops reporting it, the other's value stands alone.
TEST(DomainKeysTest, TwoSourcesOfOneDomainKeyAreMergedAndBothNamed) {
  EvidenceStore store;
  poll(store, "prom", kPromMap,
       {Fact{"monitoring.prometheus.alerting_rules", "pay", 3.0, "/rules"},
        Fact{"monitoring.prometheus.alert_severities", "pay", StringList{"critical"}, "/rules"}});
  poll(store, "zbx", kZabbixMap,
       {Fact{"monitoring.zabbix.triggers", "pay", 5.0, "trigger.get"},
        Fact{"monitoring.zabbix.trigger_severities", "pay", StringList{"high", "warning"},
             "trigger.get"}});
  auto rules = store.find("pay", "monitoring.alert_rules");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->value, Value(5.0));  // max
  EXPECT_EQ(rules->source.collector, "zbx");
  EXPECT_EQ(rules->source.merged, "max of prom 3, zbx 5");
  EXPECT_EQ(rules->source.contributors, (std::vector<std::string>{"prom", "zbx"}));
  EXPECT_EQ(provenanceText(*rules),
            " (zbx via monitoring.zabbix.triggers; max of prom 3, zbx 5)");
  auto sev = store.find("pay", "monitoring.alert_severities");
  ASSERT_TRUE(sev);
  EXPECT_EQ(sev->value, Value(StringList{"critical", "high", "warning"}));  // union
  // vendor keys stay, each its own
  EXPECT_EQ(store.find("pay", "monitoring.prometheus.alerting_rules")->value, Value(3.0));

  // A poll of prom that reports less changes the merge; one without the system leaves zbx's.
  poll(store, "prom", kPromMap, {Fact{"monitoring.prometheus.alerting_rules", "pay", 9.0, "/r"}});
  EXPECT_EQ(store.find("pay", "monitoring.alert_rules")->value, Value(9.0));
  EXPECT_EQ(store.find("pay", "monitoring.alert_rules")->source.merged, "max of prom 9, zbx 5");
  poll(store, "prom", kPromMap, {});
  rules = store.find("pay", "monitoring.alert_rules");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->value, Value(5.0));
  EXPECT_EQ(rules->source.merged, "");
  EXPECT_EQ(rules->source.collector, "zbx");
  poll(store, "zbx", kZabbixMap, {});
  EXPECT_FALSE(store.find("pay", "monitoring.alert_rules"));
  EXPECT_TRUE(store.systems().empty());
}

TEST(DomainKeysTest, MergesFollowTheCatalog) {
  auto at = [](const std::string& collector, Value v, int ago_s = 0) {
    Evidence e;
    e.key = "k";
    e.system = "s";
    e.value = std::move(v);
    e.observed_at = kNow - std::chrono::seconds(ago_s);
    e.expires_at = e.observed_at + kTtl;
    e.source = Source{collector, "loc"};
    return e;
  };
  auto merge = [](Merge m, const Evidence& a, const Evidence& b) {
    return mergeEvidence(m, {&a, &b});
  };
  Evidence t = at("a", true), f = at("b", false, 10);
  EXPECT_EQ(merge(Merge::kAny, t, f).value, Value(true));
  EXPECT_EQ(merge(Merge::kAny, t, f).source.collector, "a");
  EXPECT_EQ(merge(Merge::kAll, t, f).value, Value(false));
  EXPECT_EQ(merge(Merge::kAll, t, f).source.collector, "b");
  // all true rests on every source: it expires with the first of them
  Evidence t2 = at("b", true, 60);
  EXPECT_EQ(merge(Merge::kAll, t, t2).value, Value(true));
  EXPECT_EQ(merge(Merge::kAll, t, t2).expires_at, t2.expires_at);
  Evidence young = at("restic", 600.0), old = at("borg", 90000.0);
  EXPECT_EQ(merge(Merge::kMin, young, old).value, Value(600.0));
  EXPECT_EQ(merge(Merge::kMin, young, old).source.collector, "restic");
  EXPECT_EQ(merge(Merge::kMin, young, old).source.merged, "min of borg 90000, restic 600");
  EXPECT_EQ(merge(Merge::kMax, young, old).value, Value(90000.0));
  EXPECT_EQ(merge(Merge::kNewest, at("a", 1.0, 30), at("b", 2.0, 5)).value, Value(2.0));
  // a contribution that had expired when the other was observed is out of date: left out
  Evidence stale = at("a", 1.0, 3600), fresh = at("b", 50.0);
  Evidence m = merge(Merge::kMin, stale, fresh);
  EXPECT_EQ(m.value, Value(50.0));
  EXPECT_EQ(m.source.merged, "");
  // values of another type than the merge needs fall back to the newest
  EXPECT_EQ(merge(Merge::kMax, at("a", "x", 30), at("b", "y")).value, Value("y"));
}

// The sources' defaults (what each says of every system it knows) merge the same way.
TEST(DomainKeysTest, DefaultsOfSeveralSourcesMerge) {
  EvidenceStore store;
  poll(store, "prom", kPromMap,
       {Fact{"monitoring.prometheus.alert_severities", "*", StringList{"critical"}, "/rules"},
        Fact{"monitoring.prometheus.alerting_rules", "pay", 1.0, "/rules"}});
  poll(store, "zbx", kZabbixMap,
       {Fact{"monitoring.zabbix.trigger_severities", "*", StringList{"disaster"}, "t"},
        Fact{"monitoring.zabbix.triggers", "pay", 2.0, "t"}});
  auto sev = store.find("pay", "monitoring.alert_severities");
  ASSERT_TRUE(sev);
  EXPECT_EQ(sev->value, Value(StringList{"critical", "disaster"}));
  EXPECT_EQ(sev->system, "pay");
}

// The explanation of a criterion on a domain key names the source and the vendor key.
TEST(DomainKeysTest, ExplanationsNameTheSourcesOfADomainKey) {
  EvidenceStore store;
  poll(store, "prom", kPromMap, {Fact{"monitoring.prometheus.alerting_rules", "pay", 3.0, "/r"}});
  poll(store, "zbx", kZabbixMap, {Fact{"monitoring.zabbix.triggers", "pay", 0.0, "t"}});
  auto cond = compileCondition("test.yaml", YAML::Load("{key: monitoring.alert_rules, ge: 1}"));
  ASSERT_TRUE(cond) << cond.error().message;
  Criterion c;
  c.id = "6.1.6/L1/1";
  c.when = std::move(*cond);
  auto evidence = store.snapshot("pay");
  EvalContext ctx{evidence, kNow};
  auto r = evaluateCriterion(c, ctx, true);
  EXPECT_EQ(r.state, CriterionState::kPass);
  EXPECT_EQ(r.reason,
            "monitoring.alert_rules = 3 (prom via monitoring.prometheus.alerting_rules; max of "
            "prom 3, zbx 0), satisfies monitoring.alert_rules >= 1");
}

TEST(DomainKeysTest, CatalogChecksMappings) {
  EvidenceCatalog catalog;
  ASSERT_NE(catalog.find("monitoring.alert_rules"), nullptr);
  EXPECT_TRUE(catalog.find("monitoring.alert_rules")->is_domain);
  EXPECT_EQ(catalog.find("monitoring.alert_rules")->merge, "max");

  EvidenceKeySpec ok{"monitoring.x.rules", ValueType::kNumber, "x", "d"};
  ok.domain = "monitoring.alert_rules";
  EXPECT_TRUE(catalog.add(ok).ok());
  EXPECT_EQ(catalog.find("monitoring.alert_rules")->producers,
            (std::vector<std::string>{"x via monitoring.x.rules"}));

  EvidenceKeySpec nowhere{"monitoring.x.other", ValueType::kNumber, "x", "d"};
  nowhere.domain = "monitoring.no_such_key";
  auto st = catalog.add(nowhere);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not a domain key"), std::string::npos);

  EvidenceKeySpec wrong_type{"monitoring.x.flag", ValueType::kBool, "x", "d"};
  wrong_type.domain = "monitoring.alert_rules";
  EXPECT_FALSE(catalog.add(wrong_type).ok());

  // a producer reporting a domain key itself is one of its producers
  EXPECT_TRUE(catalog.add({"monitoring.alert_rules", ValueType::kNumber, "y", "d"}).ok());
  EXPECT_EQ(catalog.find("monitoring.alert_rules")->producers.back(), "y");
  EXPECT_FALSE(catalog.add({"monitoring.alert_rules", ValueType::kBool, "z", "d"}).ok());
}

}  // namespace
}  // namespace opsm::scorer
