#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace re2 {
class RE2;
}

namespace opsm {

// A compiled regular expression in RE2 syntax (the syntax of Prometheus, Alertmanager and Go),
// matched in time linear in the input, without recursion on it: safe for patterns and text
// that come from sources (alert rules, route matchers, plugin output) and for rules matched
// against them. Patterns nested deeper than RE2's limit, or whose program exceeds a memory
// budget, fail to compile with a clear error. Copies share the compiled program; thread-safe.
class Regex {
 public:
  enum class Case { kSensitive, kInsensitive };
  // An empty regex matches only the empty string in full, and everything partially.
  Regex();
  [[nodiscard]] static Result<Regex> compile(std::string_view pattern,
                                             Case c = Case::kSensitive);
  // The whole of `text` matches (PromQL and Alertmanager regex matchers are anchored so).
  bool fullMatch(std::string_view text) const;
  // Some part of `text` matches.
  bool partialMatch(std::string_view text) const;
  // The first capture group of the first match, if the pattern matches and has one.
  bool firstGroup(std::string_view text, std::string* group) const;
  // Whether the whole of `text` matches, with the capture groups in `groups` (resized to the
  // pattern's number of groups; unmatched optional groups are empty).
  bool fullMatchGroups(std::string_view text, std::vector<std::string>* groups) const;
  // Replaces every match in `text` with `rewrite` (\\1 names a group); returns how many.
  int replaceAll(std::string* text, std::string_view rewrite) const;
  int groups() const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::string pattern_;
};

}  // namespace opsm
