#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/regex.h"

namespace opsm::collectors::prometheus {

// One label matcher of a PromQL vector selector: job="api", instance=~"db-.*".
struct LabelMatcher {
  enum class Op { kEq, kNe, kRe, kNre };
  std::string label;
  Op op = Op::kEq;
  std::string value;
  // Whether `v` (the label's value; "" when the label is absent) satisfies the matcher. A
  // regex is anchored at both ends, as in PromQL, and matched by RE2 (PromQL's own syntax, in
  // linear time); one that does not compile matches nothing.
  bool matches(const std::string& v) const;
  // Whether the matcher picks some values out of all: `=` with a value, `=~` with a regex that
  // accepts neither the empty value nor one no real label carries. `!=`, `!~`, `=~".*"` and
  // `=~".+"` select everything but a few values, and so nothing in particular.
  bool selective() const;
  // The compiled regex of =~ and !~ (selectorMatchers() sets it).
  std::optional<Regex> re;
};

// The label matchers of every braced selector of a PromQL expression, in order: for
// `sum(rate(http_errors{job="api",code=~"5.."}[5m])) / sum(rate(x[5m]))` that is
// [[job="api", code=~"5.."]] (a selector without braces has no matchers and is not listed).
// A lexer, not a parser: it skips string literals and comments, so braces inside them are
// not selectors; an expression it cannot read yields the selectors read so far.
std::vector<std::vector<LabelMatcher>> selectorMatchers(const std::string& expr);

// One vector selector of a PromQL expression: the metric name (empty for `{job="x"}` alone)
// and its label matchers.
struct VectorSelector {
  std::string name;
  std::vector<LabelMatcher> matchers;
};

// Every vector selector of an expression, in order, with or without braces: for
// `sum by (job) (rate(errors{job="api"}[5m])) / on() group_left job:requests:rate5m` that is
// errors{job="api"} and job:requests:rate5m. Function names, the label lists of by, without,
// on, ignoring and group_*, keywords, numbers, durations, strings and comments are not
// selectors. A lexer, not a parser: an expression it cannot read yields the selectors read so
// far.
std::vector<VectorSelector> vectorSelectors(const std::string& expr);

// What a selector's matchers on the `scope` labels (job, instance, the system label) select:
// true when every such matcher accepts `labels` (a target's labels, the system's name under
// the system label). A selector with no selective matcher (LabelMatcher::selective) on a scope
// label selects nothing by itself (`scoped` is set to false: `up`, `up{job!="sandbox"}`,
// `up{job=~".+"}`) and the caller decides what an unscoped selector means.
bool selects(const std::vector<LabelMatcher>& matchers, const std::vector<std::string>& scope,
             const std::map<std::string, std::string>& labels, bool* scoped);

}  // namespace opsm::collectors::prometheus
