#include "collectors/common/fact_document.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "collectors/common/json.h"
#include "common/regex.h"
#include "common/yaml_util.h"

namespace opsm::collectors {

namespace {

const Regex& factKey() {
  static const Regex kKey = *Regex::compile(R"([a-z0-9_]+(\.[a-z0-9_]+)+)");
  return kKey;
}

std::string badKey(const std::string& key, const std::string& prefix) {
  return "'" + key.substr(0, 100) + "' must start with " + prefix +
         " and be dotted lower-case words";
}

Result<std::vector<scorer::Fact>> parseJsonFacts(const std::string& text,
                                                 const std::string& prefix,
                                                 const std::string& origin,
                                                 const std::string& locator, size_t max_facts) {
  auto doc = parseJson(text, origin);
  if (!doc) return doc.error();
  auto fail = [&](const std::string& field, const std::string& message) {
    return makeError(ErrorCode::kInvalidArgument,
                     origin + ": field '" + field + "': " + message);
  };
  const rapidjson::Value* facts = doc->IsObject() ? member(*doc, "facts") : nullptr;
  if (!facts) {
    return makeError(ErrorCode::kBadResponse, origin + ": expected an object with a 'facts' list");
  }
  if (!facts->IsArray()) return fail("facts", "must be a list");
  if (facts->Size() > max_facts) {
    return fail("facts", "more than " + std::to_string(max_facts) + " facts");
  }
  std::vector<scorer::Fact> out;
  out.reserve(facts->Size());
  for (rapidjson::SizeType i = 0; i < facts->Size(); ++i) {
    const std::string at = "facts[" + std::to_string(i) + "]";
    const rapidjson::Value& f = (*facts)[i];
    if (!f.IsObject()) return fail(at, "must be a mapping");
    for (const auto& m : f.GetObject()) {
      std::string k(m.name.GetString(), m.name.GetStringLength());
      if (k != "system" && k != "key" && k != "value") {
        return fail(at + "." + k.substr(0, 100), "unknown field (allowed: system, key, value)");
      }
    }
    scorer::Fact fact;
    for (const char* field : {"system", "key"}) {
      const rapidjson::Value* n = member(f, field);
      if (!n || !n->IsString() || n->GetStringLength() == 0) {
        return fail(at + "." + field, "must be a non-empty string");
      }
      (std::string(field) == "system" ? fact.system : fact.key)
          .assign(n->GetString(), n->GetStringLength());
    }
    if (fact.key.rfind(prefix, 0) != 0 || !factKey().fullMatch(fact.key)) {
      return fail(at + ".key", badKey(fact.key, prefix));
    }
    const rapidjson::Value* v = member(f, "value");
    if (!v) return fail(at + ".value", "is required");
    if (v->IsBool()) {
      fact.value = v->GetBool();
    } else if (v->IsNumber() && std::isfinite(v->GetDouble())) {
      fact.value = v->GetDouble();
    } else if (v->IsString()) {
      fact.value = std::string(v->GetString(), v->GetStringLength());
    } else if (v->IsArray()) {
      scorer::StringList list;
      for (const auto& e : v->GetArray()) {
        if (!e.IsString()) return fail(at + ".value", "a list may only hold strings");
        list.emplace_back(e.GetString(), e.GetStringLength());
      }
      fact.value = std::move(list);
    } else {
      return fail(at + ".value", "must be a boolean, number, string or list of strings");
    }
    fact.locator = locator;
    out.push_back(std::move(fact));
  }
  return out;
}

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
      if (fact.key.rfind(prefix, 0) != 0 || !factKey().fullMatch(fact.key)) {
        return fieldError(origin, f["key"], at + ".key", badKey(fact.key, prefix));
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

Result<std::vector<scorer::Fact>> parseFactText(const std::string& text,
                                                const std::string& prefix,
                                                const std::string& origin,
                                                const std::string& locator, size_t max_facts,
                                                const YamlLimits& limits) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    return parseJsonFacts(text, prefix, origin, locator, max_facts);
  }
  if (text.size() > kMaxYamlFactBytes) {
    return makeError(ErrorCode::kBadResponse,
                     origin + ": YAML larger than " + std::to_string(kMaxYamlFactBytes) +
                         " bytes (" + std::to_string(text.size()) +
                         "); print JSON ({\"facts\": [...]}) for more, it is far cheaper to read");
  }
  auto doc = loadYamlString(text, origin, limits);
  if (!doc) return makeError(ErrorCode::kBadResponse, doc.error().message);
  return parseFactDocument(*doc, prefix, origin, locator, max_facts);
}

}  // namespace opsm::collectors
