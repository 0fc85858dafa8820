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
  // The compiled regex of =~ and !~ (selectorMatchers() sets it).
  std::optional<Regex> re;
};

// The label matchers of every braced selector of a PromQL expression, in order: for
// `sum(rate(http_errors{job="api",code=~"5.."}[5m])) / sum(rate(x[5m]))` that is
// [[job="api", code=~"5.."]] (a selector without braces has no matchers and is not listed).
// A lexer, not a parser: it skips string literals and comments, so braces inside them are
// not selectors; an expression it cannot read yields the selectors read so far.
std::vector<std::vector<LabelMatcher>> selectorMatchers(const std::string& expr);

// What a selector's matchers on the `scope` labels (job, instance, the system label) select:
// true when every such matcher accepts `labels` (a target's labels, the system's name under
// the system label). A selector with no matcher on a scope label selects nothing by itself
// (`scoped` is set to false) and the caller decides what an unscoped selector means.
bool selects(const std::vector<LabelMatcher>& matchers, const std::vector<std::string>& scope,
             const std::map<std::string, std::string>& labels, bool* scoped);

}  // namespace opsm::collectors::prometheus
