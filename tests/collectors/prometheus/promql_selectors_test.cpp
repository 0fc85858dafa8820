// The PromQL selector lexer that scopes alerting rules to systems, and the alert_topics
// classifier, on rule texts as they are written in kube-prometheus, the node_exporter mixin
// and hand-written rule files.
#include "collectors/prometheus/promql_selectors.h"

#include <gtest/gtest.h>

#include "collectors/common/json.h"
#include "collectors/prometheus/prometheus_collector.h"
#include "collectors/prometheus/rule_attribution.h"

namespace opsm::collectors::prometheus {
namespace {

using Op = LabelMatcher::Op;

TEST(PromqlSelectorsTest, ReadsEveryBracedSelectorAndItsMatchers) {
  auto sel = selectorMatchers(
      R"(sum(rate(http_requests_total{job="api", code=~"5..", path!~'/health.*'}[5m])) )"
      R"(/ sum(rate(http_requests_total{job!="x"}[5m])) > 0.05 and on() vector(1))");
  ASSERT_EQ(sel.size(), 2u);
  ASSERT_EQ(sel[0].size(), 3u);
  EXPECT_EQ(sel[0][0].label, "job");
  EXPECT_EQ(sel[0][0].op, Op::kEq);
  EXPECT_EQ(sel[0][0].value, "api");
  EXPECT_EQ(sel[0][1].op, Op::kRe);
  EXPECT_EQ(sel[0][2].label, "path");
  EXPECT_EQ(sel[0][2].op, Op::kNre);
  EXPECT_EQ(sel[0][2].value, "/health.*");
  EXPECT_EQ(sel[1][0].op, Op::kNe);
}

TEST(PromqlSelectorsTest, BracesInStringsAndCommentsAreNotSelectors) {
  auto sel = selectorMatchers("label_replace(up, \"x\", \"{job=\\\"fake\\\"}\", \"\", \"\") # {job=\"c\"}\n"
                              " == 0");
  EXPECT_TRUE(sel.empty());
  // Escapes: "a\"b" is a"b; a regex's \\. stays \. for the regex.
  sel = selectorMatchers(R"(up{instance=~"10\\.0\\..*", job="a\"b"})");
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0][0].value, "10\\.0\\..*");
  EXPECT_TRUE(sel[0][0].matches("10.0.3.4:9100"));
  EXPECT_FALSE(sel[0][0].matches("10x0.3.4:9100"));
  EXPECT_EQ(sel[0][1].value, "a\"b");
}

TEST(PromqlSelectorsTest, UnreadableInputYieldsWhatWasReadAndNeverThrows) {
  EXPECT_TRUE(selectorMatchers("up{job=").empty());
  EXPECT_TRUE(selectorMatchers("up{job=\"unterminated").empty());
  EXPECT_TRUE(selectorMatchers("{{{{").empty());
  EXPECT_EQ(selectorMatchers("a{x=\"1\"} or b{").size(), 1u);
  LabelMatcher bad{"job", Op::kRe, "(unclosed", std::nullopt};
  EXPECT_FALSE(bad.matches("(unclosed"));
}

TEST(PromqlSelectorsTest, ScopeIsJobInstanceOrTheSystemLabel) {
  const std::vector<std::string> scope = {"job", "instance", "system"};
  std::map<std::string, std::string> target = {
      {"job", "payments-node"}, {"instance", "10.0.0.1:9100"}, {"system", "payments"}};
  bool scoped = false;
  auto one = [](const std::string& expr) { return selectorMatchers(expr).at(0); };
  EXPECT_TRUE(selects(one(R"(up{job="payments-node"})"), scope, target, &scoped));
  EXPECT_TRUE(scoped);
  EXPECT_FALSE(selects(one(R"(up{job="billing-node"})"), scope, target, &scoped));
  EXPECT_TRUE(scoped);
  EXPECT_TRUE(selects(one(R"(up{system=~"pay.*", mountpoint="/"})"), scope, target, &scoped));
  // A matcher on a series label only (a mountpoint, a status code) does not scope the rule.
  EXPECT_FALSE(selects(one(R"(node_filesystem_avail_bytes{mountpoint="/"})"), scope, target,
                       &scoped));
  EXPECT_FALSE(scoped);
}

TEST(PromqlSelectorsTest, VectorSelectorsNameEverySeriesReadButNotLabelListsOrKeywords) {
  // kube-prometheus's TargetDown, keywords in capitals as it writes them
  auto sel = vectorSelectors(
      "100 * (count(up == 0) BY (cluster, job, namespace, service) / count(up) BY (cluster, "
      "job, namespace, service)) > 10");
  ASSERT_EQ(sel.size(), 2u);
  EXPECT_EQ(sel[0].name, "up");
  EXPECT_TRUE(sel[0].matchers.empty());
  EXPECT_EQ(sel[1].name, "up");
  sel = vectorSelectors(
      "sum(apiserver_request:burnrate1h) > (14.40 * 0.01000) and sum without (cpu) "
      "(rate(node_cpu_seconds_total{mode!=\"idle\"}[5m] offset 1h)) / on(instance) "
      "group_left() job:up:sum{job=\"api\"}");
  ASSERT_EQ(sel.size(), 3u);
  EXPECT_EQ(sel[0].name, "apiserver_request:burnrate1h");
  EXPECT_EQ(sel[1].name, "node_cpu_seconds_total");
  ASSERT_EQ(sel[1].matchers.size(), 1u);
  EXPECT_EQ(sel[2].name, "job:up:sum");
  EXPECT_EQ(sel[2].matchers.at(0).value, "api");
  EXPECT_TRUE(vectorSelectors("vector(1)").empty());
  sel = vectorSelectors(R"({__name__="errors_total", job="api"})");
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_EQ(sel[0].name, "errors_total");
  EXPECT_EQ(sel[0].matchers.size(), 1u);
}

TEST(PromqlSelectorsTest, OnlyASelectiveMatcherScopesASelector) {
  const std::vector<std::string> scope = {"job", "instance", "system"};
  std::map<std::string, std::string> target = {{"job", "api"}, {"instance", "a:1"}, {"system", "payments"}};
  auto one = [](const std::string& expr) { return selectorMatchers(expr).at(0); };
  bool scoped = true;
  for (const char* expr : {R"(up{job=~".+"} == 0)", R"(up{job=~".*"} == 0)",
                           R"(up{job!="sandbox"} == 0)", R"(up{system!~"test.*"} == 0)",
                           R"(up{job=""} == 0)", R"(up{job=~"api|.*"} == 0)"}) {
    EXPECT_FALSE(selects(one(expr), scope, target, &scoped)) << expr;
    EXPECT_FALSE(scoped) << expr;
  }
  EXPECT_TRUE(selects(one(R"(up{job=~"api|web", system!="sandbox"})"), scope, target, &scoped));
  EXPECT_TRUE(scoped);
  EXPECT_FALSE(selects(one(R"(up{job="api", system!="payments"})"), scope, target, &scoped));
}

rapidjson::Document groupsOf(const std::string& json) {
  auto doc = parseJson(json, "rules");
  EXPECT_TRUE(doc.ok());
  return doc ? std::move(*doc) : rapidjson::Document();
}

std::map<std::string, std::set<std::string>> ownersByName(const std::string& json,
                                                          const SystemMapping& mapping) {
  TargetScopes scopes = {
      {"payments", {{{"job", "payments-api"}, {"instance", "10.0.0.1:8080"}, {"system", "payments"}}}},
      {"billing", {{{"job", "billing-api"}, {"instance", "10.0.0.2:8080"}, {"system", "billing"}}}}};
  auto doc = groupsOf(json);
  std::map<std::string, std::set<std::string>> out;
  for (const auto& r : attributeRules(doc, scopes, mapping)) out[r.name] = r.owners;
  return out;
}

TEST(RuleAttributionTest, PlatformRulesWatchNoSystemAndRecordedSeriesCarryTheirOwners) {
  const std::string json = R"J([{"name":"g","rules":[
    {"type":"alerting","name":"Watchdog","query":"vector(1)","labels":{"severity":"none"}},
    {"type":"alerting","name":"TargetDown","query":"100 * (count by (job) (up == 0) / count by (job) (up)) > 10"},
    {"type":"alerting","name":"AnyJobDown","query":"up{job=~\".+\"} == 0"},
    {"type":"alerting","name":"KubeAPIErrorBudgetBurn","query":"sum(apiserver_request:burnrate1h) > 0.144"},
    {"type":"recording","name":"apiserver_request:burnrate1h","query":"sum(rate(apiserver_request_total{job=\"apiserver\"}[1h]))"},
    {"type":"alerting","name":"PaymentsErrors","query":"job:errors:ratio5m > 0.05"},
    {"type":"recording","name":"job:errors:ratio5m","query":"sum by (job) (rate(errors_total{job=\"payments-api\"}[5m]))"},
    {"type":"recording","name":"job:errors:ratio1h","query":"avg_over_time(job:errors:ratio5m[1h])"},
    {"type":"alerting","name":"SlowBurn","query":"job:errors:ratio1h > 0.01"},
    {"type":"alerting","name":"Labelled","query":"vector(1)","labels":{"system":"ledger"}},
    {"type":"alerting","name":"Sloth","query":"slo:sli_error:ratio_rate5m{sloth_service=\"billing\"} > 0.01"}
  ]}])J";
  SystemMapping mapping;
  auto owners = ownersByName(json, mapping);
  for (const char* platform : {"Watchdog", "TargetDown", "AnyJobDown", "KubeAPIErrorBudgetBurn",
                               "apiserver_request:burnrate1h", "Sloth"}) {
    EXPECT_TRUE(owners[platform].empty()) << platform;
  }
  // the recording rule is listed after the alert on its series, and one records from another
  EXPECT_EQ(owners["PaymentsErrors"], std::set<std::string>{"payments"});
  EXPECT_EQ(owners["SlowBurn"], std::set<std::string>{"payments"});
  EXPECT_EQ(owners["job:errors:ratio1h"], std::set<std::string>{"payments"});
  EXPECT_EQ(owners["Labelled"], std::set<std::string>{"ledger"});
  // a series the site maps to a system
  mapping.series_systems["slo:sli_error:ratio_rate5m"] = "billing";
  EXPECT_EQ(ownersByName(json, mapping)["Sloth"], std::set<std::string>{"billing"});
}

// Sloth's generated rules carry sloth_service, not the system label: a site names it in
// rule_system_labels, and its SLI and objective rules are then the service's.
TEST(RuleAttributionTest, RuleSystemLabelsNameTheSystemOfGeneratedRules) {
  const std::string json = R"J([{"name":"sloth-slo-sli-recordings-payments-availability","rules":[
    {"type":"recording","name":"slo:sli_error:ratio_rate5m","query":"(sum(rate(http_requests_total{code=~\"5..\"}[5m])))/(sum(rate(http_requests_total[5m])))","labels":{"sloth_id":"payments-availability","sloth_service":"payments","sloth_slo":"availability"}},
    {"type":"recording","name":"slo:objective:ratio","query":"vector(0.9990000000000001)","labels":{"sloth_id":"payments-availability","sloth_service":"payments","sloth_slo":"availability"}}
  ]}])J";
  SystemMapping mapping;
  auto owners = ownersByName(json, mapping);
  EXPECT_TRUE(owners["slo:objective:ratio"].empty()) << "vector(0.999) watches nothing by itself";
  mapping.rule_system_labels = {"sloth_service"};
  owners = ownersByName(json, mapping);
  EXPECT_EQ(owners["slo:objective:ratio"], std::set<std::string>{"payments"});
  EXPECT_EQ(owners["slo:sli_error:ratio_rate5m"], std::set<std::string>{"payments"});
}

TEST(AlertTopicsTest, TargetDownInTheFormsRulesAreWrittenIn) {
  for (const char* expr : {
           "up == 0",
           R"(up{system="payments"} == 0)",
           R"(up{job="node", instance=~"db-.*"}==0)",
           R"(sum by (job) (up{job="api"}) == 0)",
           R"(avg_over_time(up{job="api"}[5m]) < 0.9)",
           R"(min(up{system="payments"}) < 1)",
           R"(absent(up{job="api"}))",
           R"(absent_over_time(up{job="api"}[10m]))",
           R"(up{job="api"} != 1)",
       }) {
    EXPECT_TRUE(alertTopicsOf(expr).count("target_down")) << expr;
  }
  for (const char* expr : {
           "rate(backup_up_errors_total[5m]) > 0",  // a metric that merely contains "up"
           R"(sum(rate(http_requests_total{code=~"5.."}[5m])) > 1)",
           "pg_up_time_seconds < 60",
       }) {
    EXPECT_FALSE(alertTopicsOf(expr).count("target_down")) << expr;
  }
}

// Rule texts from a server are not trusted: a huge one is classified, not a crash.
TEST(AlertTopicsTest, AHugeRuleTextIsNoCrash) {
  EXPECT_TRUE(alertTopicsOf("up" + std::string(100'000, ' ') + "== 0").count("target_down"));
  auto sel = selectorMatchers("up{job=~\"" + std::string(200'000, '(') + "\"}");
  ASSERT_EQ(sel.size(), 1u);
  EXPECT_FALSE(sel[0][0].matches("api")) << "a pattern that does not compile matches nothing";
}

TEST(AlertTopicsTest, ErrorsNeedAnErrorMetricNotTheWordInALabel) {
  EXPECT_TRUE(alertTopicsOf(R"(sum(rate(http_requests_total{code=~"5.."}[5m])) > 1)").count("errors"));
  EXPECT_TRUE(alertTopicsOf("rate(app_errors_total[5m]) > 0").count("errors"));
  EXPECT_TRUE(alertTopicsOf(R"(predict_linear(node_filesystem_avail_bytes[6h], 4*3600) < 0)")
                  .count("prediction"));
}

}  // namespace
}  // namespace opsm::collectors::prometheus
