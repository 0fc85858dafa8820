#include "collectors/common/fact_document.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "common/regex.h"
#include "common/yaml_util.h"

namespace opsm::collectors {

namespace {

std::optional<scorer::Value> scalarValue(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return scorer::Value(s);  // quoted: a string, whatever it looks like
  if (s == "true") return scorer::Value(true);
  if (s == "false") return scorer::Value(false);
  if (!s.empty()) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return scorer::Value(d);
  }
  return scorer::Value(s);
}

}  // namespace

Result<std::vector<scorer::Fact>> parseFactDocument(const YAML::Node& root,
                                                    const std::string& prefix,
                                                    const std::string& origin,
                                                    const std::string& locator,
                                                    size_t max_facts) {
  static const Regex kKey = *Regex::compile(R"([a-z0-9_]+(\.[a-z0-9_]+)+)");
  return guardYaml(origin, [&]() -> Result<std::vector<scorer::Fact>> {
    if (!root.IsMap() || !root["facts"]) {
      return makeError(ErrorCode::kBadResponse,
                       where(origin, root) + ": expected a mapping with a 'facts' list");
    }
    const YAML::Node facts = root["facts"];
    if (!facts.IsSequence()) {
      return fieldError(origin, facts, "facts", "must be a list");
    }
    if (facts.size() > max_facts) {
      return fieldError(origin, facts, "facts",
                        "more than " + std::to_string(max_facts) + " facts");
    }
    std::vector<scorer::Fact> out;
    size_t i = 0;
    for (const auto& f : facts) {
      std::string at = "facts[" + std::to_string(i++) + "]";
      if (!f.IsMap()) return fieldError(origin, f, at, "must be a mapping");
      for (const auto& kv : f) {
        std::string k = kv.first.Scalar();
        if (k != "system" && k != "key" && k != "value") {
          return fieldError(origin, kv.first, at + "." + k,
                            "unknown field (allowed: system, key, value)");
        }
      }
      scorer::Fact fact;
      for (const char* field : {"system", "key"}) {
        const YAML::Node n = f[field];
        if (!n || !n.IsScalar() || n.Scalar().empty()) {
          return fieldError(origin, n ? n : f, at + "." + field, "must be a non-empty string");
        }
      }
      fact.system = f["system"].Scalar();
      fact.key = f["key"].Scalar();
      if (fact.key.rfind(prefix, 0) != 0 || !kKey.fullMatch(fact.key)) {
        return fieldError(origin, f["key"], at + ".key",
                          "'" + fact.key.substr(0, 100) + "' must start with " + prefix +
                              " and be dotted lower-case words");
      }
      const YAML::Node v = f["value"];
      if (!v) return fieldError(origin, f, at + ".value", "is required");
      if (v.IsScalar()) {
        fact.value = *scalarValue(v);
      } else if (v.IsSequence()) {
        scorer::StringList list;
        for (const auto& e : v) {
          if (!e.IsScalar()) {
            return fieldError(origin, e, at + ".value", "a list may only hold strings");
          }
          list.push_back(e.Scalar());
        }
        fact.value = std::move(list);
      } else {
        return fieldError(origin, v, at + ".value",
                          "must be a boolean, number, string or list of strings");
      }
      fact.locator = locator;
      out.push_back(std::move(fact));
    }
    return out;
  });
}

}  // namespace opsm::collectors
