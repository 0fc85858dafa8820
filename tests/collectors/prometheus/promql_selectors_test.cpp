// The PromQL selector lexer that scopes alerting rules to systems, and the alert_topics
// classifier, on rule texts as they are written in kube-prometheus, the node_exporter mixin
// and hand-written rule files.
#include "collectors/prometheus/promql_selectors.h"

#include <gtest/gtest.h>

#include "collectors/prometheus/prometheus_collector.h"

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
