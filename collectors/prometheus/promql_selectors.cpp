#include "collectors/prometheus/promql_selectors.h"

#include <algorithm>
#include <cctype>

namespace opsm::collectors::prometheus {

bool LabelMatcher::matches(const std::string& v) const {
  switch (op) {
    case Op::kEq:
      return v == value;
    case Op::kNe:
      return v != value;
    case Op::kRe:
    case Op::kNre: {
      std::optional<Regex> compiled = re;
      if (!compiled) {
        auto r = Regex::compile(value);
        if (!r) return false;
        compiled = std::move(*r);
      }
      bool m = compiled->fullMatch(v);
      return op == Op::kRe ? m : !m;
    }
  }
  return false;
}

namespace {

// Reads a quoted string literal starting at s[i] (", ' or `); returns its unescaped value
// and moves i past it; false if it is not terminated.
bool readString(const std::string& s, size_t& i, std::string* out) {
  const char quote = s[i++];
  out->clear();
  while (i < s.size()) {
    char c = s[i++];
    if (c == quote) return true;
    if (c == '\\' && quote != '`' && i < s.size()) {
      char e = s[i++];
      switch (e) {
        case 'n':
          out->push_back('\n');
          break;
        case 't':
          out->push_back('\t');
          break;
        case '"':
        case '\'':
        case '\\':
          out->push_back(e);
          break;
        default:  // kept as written
          out->push_back('\\');
          out->push_back(e);
      }
      continue;
    }
    out->push_back(c);
  }
  return false;
}

bool isNameChar(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

void skipSpace(const std::string& s, size_t& i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

}  // namespace

namespace {

// Reads the matchers of the braces at expr[i] ('{') into `out` and moves i past them; false
// when they cannot be read.
bool readMatchers(const std::string& expr, size_t& i, std::vector<LabelMatcher>* out) {
  ++i;
  for (;;) {
    skipSpace(expr, i);
    if (i >= expr.size()) return false;
    if (expr[i] == '}') {
      ++i;
      return true;
    }
    if (expr[i] == ',') {
      ++i;
      continue;
    }
    LabelMatcher m;
    if (expr[i] == '"') {  // Prometheus 3 quoted label names
      if (!readString(expr, i, &m.label)) return false;
    } else {
      size_t start = i;
      while (i < expr.size() && isNameChar(expr[i], i == start)) ++i;
      if (i == start) return false;  // not a selector we can read
      m.label = expr.substr(start, i - start);
    }
    skipSpace(expr, i);
    if (i >= expr.size()) return false;
    if (expr.compare(i, 2, "=~") == 0) {
      m.op = LabelMatcher::Op::kRe;
      i += 2;
    } else if (expr.compare(i, 2, "!~") == 0) {
      m.op = LabelMatcher::Op::kNre;
      i += 2;
    } else if (expr.compare(i, 2, "!=") == 0) {
      m.op = LabelMatcher::Op::kNe;
      i += 2;
    } else if (expr[i] == '=') {
      m.op = LabelMatcher::Op::kEq;
      i += 1;
    } else if (expr[i] == ',' || expr[i] == '}') {
      // {"metric_name"} in Prometheus 3: a metric name, not a matcher
      m.op = LabelMatcher::Op::kEq;
      m.value = m.label;
      m.label = "__name__";
      out->push_back(std::move(m));
      continue;
    } else {
      return false;
    }
    skipSpace(expr, i);
    if (i >= expr.size() || (expr[i] != '"' && expr[i] != '\'' && expr[i] != '`')) return false;
    if (!readString(expr, i, &m.value)) return false;
    if (m.op == LabelMatcher::Op::kRe || m.op == LabelMatcher::Op::kNre) {
      if (auto r = Regex::compile(m.value)) m.re = std::move(*r);
    }
    out->push_back(std::move(m));
  }
}

bool isMetricNameChar(char c, bool first) { return isNameChar(c, first) || c == ':'; }

// Words of PromQL that are not metric names when they stand alone (in any case: `BY`, `ON`).
bool isKeyword(const std::string& w) {
  static const char* const kWords[] = {"and", "or", "unless", "bool", "offset", "by",
                                       "without", "on", "ignoring", "group_left",
                                       "group_right", "inf", "nan", "start", "end", "atan2",
                                       // aggregations, also before `by (...)`: sum by (job) (x)
                                       "sum", "min", "max", "avg", "group", "stddev", "stdvar",
                                       "count", "count_values", "bottomk", "topk", "quantile",
                                       "limitk", "limit_ratio"};
  std::string lower = w;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* k : kWords) {
    if (lower == k) return true;
  }
  return false;
}

// Words followed by a list of label names: by (job), without (cpu), on (instance), ...
bool takesLabelList(const std::string& w) {
  static const char* const kWords[] = {"by", "without", "on", "ignoring", "group_left",
                                       "group_right"};
  std::string lower = w;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* k : kWords) {
    if (lower == k) return true;
  }
  return false;
}

}  // namespace

std::vector<VectorSelector> vectorSelectors(const std::string& expr) {
  std::vector<VectorSelector> out;
  size_t i = 0;
  std::string scratch;
  while (i < expr.size()) {
    char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      if (!readString(expr, i, &scratch)) return out;
      continue;
    }
    if (c == '#') {  // a comment runs to the end of the line
      while (i < expr.size() && expr[i] != '\n') ++i;
      continue;
    }
    if (c == '[') {  // a range or subquery: durations, not names
      while (i < expr.size() && expr[i] != ']') ++i;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {  // 5m, 1e3, 0x1f, 0.5
      while (i < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[i])) ||
                                 expr[i] == '.' || expr[i] == '_')) {
        ++i;
      }
      continue;
    }
    VectorSelector sel;
    if (isMetricNameChar(c, true)) {
      size_t start = i;
      while (i < expr.size() && isMetricNameChar(expr[i], i == start)) ++i;
      std::string word = expr.substr(start, i - start);
      size_t after = i;
      skipSpace(expr, after);
      if (after < expr.size() && expr[after] == '(') {
        // a function call, or the label list of by/without/on/ignoring/group_*: skip the list
        if (takesLabelList(word)) {
          while (after < expr.size() && expr[after] != ')') ++after;
          i = after;
        }
        continue;
      }
      if (isKeyword(word)) continue;
      sel.name = word;
      if (after < expr.size() && expr[after] == '{') {
        i = after;
      } else {
        out.push_back(std::move(sel));
        continue;
      }
    } else if (c != '{') {
      ++i;
      continue;
    }
    if (!readMatchers(expr, i, &sel.matchers)) return out;
    for (auto it = sel.matchers.begin(); it != sel.matchers.end();) {
      if (it->label == "__name__" && it->op == LabelMatcher::Op::kEq) {
        sel.name = it->value;
        it = sel.matchers.erase(it);
      } else {
        ++it;
      }
    }
    out.push_back(std::move(sel));
  }
  return out;
}

std::vector<std::vector<LabelMatcher>> selectorMatchers(const std::string& expr) {
  std::vector<std::vector<LabelMatcher>> out;
  for (auto& s : vectorSelectors(expr)) {
    if (!s.matchers.empty()) out.push_back(std::move(s.matchers));
  }
  return out;
}

bool LabelMatcher::selective() const {
  switch (op) {
    case Op::kEq:
      return !value.empty();
    case Op::kRe:
      // a regex that accepts the empty value or one no real label carries accepts (nearly)
      // every value: `.*`, `.+`, `api|.*`
      return !matches("") && !matches("\x01opsm\x7fnot-a-label-value\x01");
    case Op::kNe:
    case Op::kNre:
      return false;
  }
  return false;
}

bool selects(const std::vector<LabelMatcher>& matchers, const std::vector<std::string>& scope,
             const std::map<std::string, std::string>& labels, bool* scoped) {
  *scoped = false;
  bool all = true;
  for (const auto& m : matchers) {
    if (std::find(scope.begin(), scope.end(), m.label) == scope.end()) continue;
    if (m.selective()) *scoped = true;
    auto it = labels.find(m.label);
    if (!m.matches(it == labels.end() ? std::string() : it->second)) all = false;
  }
  return *scoped && all;
}

}  // namespace opsm::collectors::prometheus
