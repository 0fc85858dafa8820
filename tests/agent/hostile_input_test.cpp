// Malformed documents of every kind the agent reads: each gives an error naming the file,
// never an exception or a crash.
#include <gtest/gtest.h>

#include "agent/core/config.h"
#include "scorer/attestations.h"
#include "scorer/rule_tests.h"
#include "scorer/rules.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

const std::vector<std::string> kHostile = {
    "",
    "~",
    "42",
    "[1, 2, 3]",
    "\"just a string\"",
    "a: [1, {b: }",
    "{collectors: [x], rules_dir: r}",
    "{collectors: [{type: [prometheus]}], rules_dir: r}",
    "{collectors: [{type: prometheus, url: {a: b}}], rules_dir: r}",
    "{collectors: {type: prometheus}, rules_dir: r}",
    "{rules_dir: [r], collectors: []}",
    "{rules_dir: r, scoring: 5, collectors: [{type: prometheus, url: 'http://x'}]}",
    "{rules_dir: r, systems: [{name: [1]}], collectors: [{type: prometheus, url: 'http://x'}]}",
    "{rules_dir: r, systems: [[a]], collectors: [{type: prometheus, url: 'http://x'}]}",
    "{rules_dir: r, collectors: [{type: prometheus, url: 'http://x', basic_auth: 5}]}",
    "{rules_dir: r, collectors: [{type: prometheus, url: 'http://x', tls: [1]}]}",
    "{rules_dir: r, collectors: [{type: prometheus, url: 'http://x', systems_by_job: [a]}]}",
    "{item: '6.1.3', levels: {1: [x]}}",
    "{item: '6.1.3', levels: {1: [{id: 6.1.3/L1/1, zh: a, en: b, when: [1]}]}}",
    "{item: '6.1.3', levels: {1: [{id: 6.1.3/L1/1, zh: a, en: b, when: {all: {a: b}}}]}}",
    "{item: '6.1.3', levels: {1: [{id: 6.1.3/L1/1, zh: a, en: b, when: {key: [a], eq: 1}}]}}",
    "{item: '6.1.3', levels: {1: [{id: 6.1.3/L1/1, zh: a, en: b, when: {key: a, in: {x: 1}}}]}}",
    "{item: '6.1.3', levels: {1: [{id: [x], zh: a, en: b, attestation: true}]}}",
    "{item: '6.1.3', levels: {1: [{id: 6.1.3/L1/1, zh: a, en: b, attestation: [1]}]}}",
    "{item: '6.1.3', levels: {5: {same_as: [4]}}}",
    "{item: [1], levels: {}}",
    "{attestations: [5]}",
    "{attestations: [{system: [a], criterion: 6.1.6/L2/1}]}",
    "{attestations: {system: a}}",
    "{tests: [5]}",
    "{tests: [{name: t, evidence: [1], expect: [{item: '6.1.3', level: 1}]}]}",
    "{tests: [{name: t, evidence: {monitoring.prometheus.targets_total: {value: {a: 1}}}, expect: [x]}]}",
    "{tests: [{name: t, expect: [{item: [6], level: 1}]}]}",
    "{tests: [{name: t, attested: {a: 1}, expect: [{item: '6.1.3'}]}]}",
    "{rules_dir: {a: 1}, tests: []}",
};

class HostileInputTest : public ::testing::TestWithParam<size_t> {};

TEST_P(HostileInputTest, EveryLoaderReturnsAnErrorAndNeverThrows) {
  testing::TempDir dir;
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  auto catalog = registry.catalog();
  ASSERT_TRUE(catalog.ok());
  auto pack = scorer::loadRulePack(std::string(OPSM_SOURCE_DIR) + "/rules");
  ASSERT_TRUE(pack.ok());

  const std::string& doc = kHostile[GetParam()];
  std::string path = dir.write("doc.yaml", doc);
  SCOPED_TRACE("document: " + doc);
  EXPECT_NO_THROW({
    auto c = agent::loadConfig(path, registry);
    EXPECT_FALSE(c.ok());
    if (!c.ok()) {
      EXPECT_NE(c.error().message.find(path), std::string::npos) << c.error().message;
    }
  });
  EXPECT_NO_THROW({
    auto r = scorer::loadItemRules(path, pack->model);
    EXPECT_FALSE(r.ok());
  });
  EXPECT_NO_THROW({
    auto a = scorer::loadAttestations(path, *pack, Clock::now());
    // An empty document is an empty attestations file, which is fine.
    if (!a.ok()) {
      EXPECT_NE(a.error().message.find(path), std::string::npos);
    }
  });
  EXPECT_NO_THROW({
    auto t = scorer::runRuleTests(path, *catalog);
    EXPECT_FALSE(t.ok() && t->failed == 0 && t->passed > 0);
  });
}

INSTANTIATE_TEST_SUITE_P(Documents, HostileInputTest, ::testing::Range<size_t>(0, kHostile.size()));

}  // namespace
}  // namespace opsm
