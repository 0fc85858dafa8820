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

std::vector<std::vector<LabelMatcher>> selectorMatchers(const std::string& expr) {
  std::vector<std::vector<LabelMatcher>> out;
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
    if (c != '{') {
      ++i;
      continue;
    }
    ++i;
    std::vector<LabelMatcher> matchers;
    for (;;) {
      skipSpace(expr, i);
      if (i >= expr.size()) return out;
      if (expr[i] == '}') {
        ++i;
        break;
      }
      if (expr[i] == ',') {
        ++i;
        continue;
      }
      LabelMatcher m;
      if (expr[i] == '"') {  // Prometheus 3 quoted label names
        if (!readString(expr, i, &m.label)) return out;
      } else {
        size_t start = i;
        while (i < expr.size() && isNameChar(expr[i], i == start)) ++i;
        if (i == start) return out;  // not a selector we can read
        m.label = expr.substr(start, i - start);
      }
      skipSpace(expr, i);
      if (i >= expr.size()) return out;
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
        continue;
      } else {
        return out;
      }
      skipSpace(expr, i);
      if (i >= expr.size() || (expr[i] != '"' && expr[i] != '\'' && expr[i] != '`')) return out;
      if (!readString(expr, i, &m.value)) return out;
      if (m.op == LabelMatcher::Op::kRe || m.op == LabelMatcher::Op::kNre) {
        if (auto r = Regex::compile(m.value)) m.re = std::move(*r);
      }
      matchers.push_back(std::move(m));
    }
    if (!matchers.empty()) out.push_back(std::move(matchers));
  }
  return out;
}

bool selects(const std::vector<LabelMatcher>& matchers, const std::vector<std::string>& scope,
             const std::map<std::string, std::string>& labels, bool* scoped) {
  *scoped = false;
  bool all = true;
  for (const auto& m : matchers) {
    if (std::find(scope.begin(), scope.end(), m.label) == scope.end()) continue;
    *scoped = true;
    auto it = labels.find(m.label);
    if (!m.matches(it == labels.end() ? std::string() : it->second)) all = false;
  }
  return *scoped && all;
}

}  // namespace opsm::collectors::prometheus
