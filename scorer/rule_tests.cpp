#include "scorer/rule_tests.h"

#include <cmath>
#include <filesystem>

#include "common/yaml_util.h"
#include "scorer/scoring.h"

namespace opsm::scorer {

namespace {

namespace fs = std::filesystem;

Value scalarOrList(const YAML::Node& n) {
  if (n.IsSequence()) {
    StringList l;
    for (const auto& x : n) l.push_back(x.Scalar());
    return Value(std::move(l));
  }
  if (n.Tag() != "!") {
    bool b = false;
    if (YAML::convert<bool>::decode(n, b)) return Value(b);
    double d = 0;
    if (YAML::convert<double>::decode(n, d)) return Value(d);
  }
  return Value(n.Scalar());
}

bool typeFits(const Value& v, ValueType want) { return v.type() == want; }

const char* stateName(CriterionState s) { return criterionStateName(s); }

}  // namespace

namespace {

Result<RuleTestOutcome> runRuleTestsImpl(const std::string& path, const EvidenceCatalog& catalog) {
  auto root = loadYamlFile(path);
  if (!root) return root.error();
  if (auto st = checkKeys(path, *root, {"rules_dir", "evaluation_time", "tests"}, "rule test file");
      !st) {
    return st.error();
  }
  auto dir = readString(path, *root, "rules_dir", "..");
  if (!dir) return dir.error();
  fs::path rules_dir(*dir);
  if (rules_dir.is_relative()) rules_dir = fs::path(path).parent_path() / rules_dir;
  auto pack = loadRulePack(rules_dir.lexically_normal().string());
  if (!pack) return pack.error();

  TimePoint now = Clock::now();
  if ((*root)["evaluation_time"]) {
    auto t = parseDate((*root)["evaluation_time"].Scalar());
    if (!t) return fieldError(path, (*root)["evaluation_time"], "evaluation_time", t.error().message);
    now = *t;
  }
  YAML::Node tests = (*root)["tests"];
  if (!tests.IsSequence() || tests.size() == 0) {
    return fieldError(path, tests.IsDefined() ? tests : *root, "tests", "must be a non-empty list");
  }

  RuleTestOutcome outcome;
  for (const auto& t : tests) {
    if (auto st = checkKeys(path, t, {"name", "system", "evidence", "attested", "attested_not_met", "expect"},
                            "test");
        !st) {
      return st.error();
    }
    auto name = readString(path, t, "name");
    if (!name) return name.error();
    if (name->empty()) return fieldError(path, t, "name", "is required");
    auto system = readString(path, t, "system", "test-system");
    if (!system) return system.error();

    std::map<std::string, Evidence> evidence;
    if (YAML::Node ev = t["evidence"]) {
      if (!ev.IsMap()) return fieldError(path, ev, "evidence", "must map evidence keys to values");
      for (const auto& kv : ev) {
        std::string key = kv.first.Scalar();
        const EvidenceKeySpec* spec = catalog.find(key);
        if (!spec) {
          return fieldError(path, kv.first, key, "is produced by no known collector");
        }
        Evidence e;
        e.key = key;
        e.system = *system;
        Duration age{0}, ttl = std::chrono::hours(1);
        // (A YAML::Node assigned to another node overwrites it: bind once, never reassign.)
        const YAML::Node value = kv.second.IsMap() ? kv.second["value"] : kv.second;
        if (kv.second.IsMap()) {
          if (auto st = checkKeys(path, kv.second, {"value", "age", "ttl"}, "evidence"); !st) {
            return st.error();
          }
          auto a = readDuration(path, kv.second, "age", age);
          if (!a) return a.error();
          auto l = readDuration(path, kv.second, "ttl", ttl);
          if (!l) return l.error();
          age = *a;
          ttl = *l;
        }
        if (!value.IsDefined() || value.IsNull() || value.IsMap()) {
          return fieldError(path, kv.second, key, "needs a value");
        }
        e.value = scalarOrList(value);
        if (!spec->isNamespace() && !typeFits(e.value, spec->type)) {
          return fieldError(path, kv.second, key,
                            std::string("is a ") + valueTypeName(spec->type) + ", given a " +
                                valueTypeName(e.value.type()));
        }
        e.observed_at = now - age;
        e.expires_at = e.observed_at + ttl;
        e.source = Source{"rules-test", path};
        evidence[key] = std::move(e);
      }
    }
    for (auto [field, met] : {std::pair{"attested", true}, std::pair{"attested_not_met", false}}) {
      YAML::Node list = t[field];
      if (!list) continue;
      if (!list.IsSequence()) return fieldError(path, list, field, "must be a list of criterion ids");
      for (const auto& id : list) {
        const Criterion* c = findCriterion(*pack, id.Scalar());
        if (!c || !c->attestation) {
          return fieldError(path, id, field, "'" + id.Scalar() + "' is not an attestation criterion");
        }
        Evidence e;
        e.key = attestationKey(id.Scalar());
        e.system = *system;
        e.value = met;
        e.observed_at = now;
        e.expires_at = now + c->attestation_max_age;
        e.source = Source{"rules-test", path};
        evidence[e.key] = std::move(e);
      }
    }

    EvalContext ctx{evidence, now};
    std::map<std::string, ItemScore> scores;
    auto scoreOf = [&](const std::string& item) -> const ItemScore* {
      auto it = scores.find(item);
      if (it != scores.end()) return &it->second;
      const ItemRules* rules = pack->findItem(item);
      if (!rules) return nullptr;
      return &scores.emplace(item, scoreItem(*rules, ctx, ScoringConfig{})).first->second;
    };

    YAML::Node expect = t["expect"];
    if (!expect.IsSequence() || expect.size() == 0) {
      return fieldError(path, expect.IsDefined() ? expect : YAML::Node(t), "expect",
                        "must be a non-empty list");
    }
    std::vector<std::string> diffs;
    for (const auto& e : expect) {
      if (auto st = checkKeys(path, e, {"item", "level", "progress", "applicable", "criterion", "state"},
                              "expectation");
          !st) {
        return st.error();
      }
      std::string at = where(path, e) + ": test '" + *name + "': ";
      if (e["item"]) {
        std::string item = e["item"].Scalar();
        const ItemScore* s = scoreOf(item);
        if (!s) return fieldError(path, e["item"], "item", "no rules for item " + item);
        if (e["applicable"]) {
          auto want = readBool(path, e, "applicable", true);
          if (!want) return want.error();
          if (s->applicable != *want) {
            diffs.push_back(at + "item " + item + (s->applicable ? " applies" : " does not apply") +
                            ", want " + (*want ? "it to apply" : "not applicable") + " (" +
                            s->applicability + ")");
          }
        }
        if (e["level"]) {
          auto want = readNumber(path, e, "level", 0);
          if (!want) return want.error();
          if (s->level != static_cast<int>(*want)) {
            diffs.push_back(at + "item " + item + " level " + std::to_string(s->level) +
                            ", want " + std::to_string(static_cast<int>(*want)));
          }
        }
        if (e["progress"]) {
          auto want = readNumber(path, e, "progress", 0);
          if (!want) return want.error();
          if (std::fabs(s->progress - *want) > 0.005) {
            diffs.push_back(at + "item " + item + " progress " + std::to_string(s->progress) +
                            ", want " + std::to_string(*want));
          }
        }
        continue;
      }
      if (e["criterion"]) {
        std::string id = e["criterion"].Scalar();
        const Criterion* c = findCriterion(*pack, id);
        if (!c) return fieldError(path, e["criterion"], "criterion", "no criterion " + id);
        auto want = readString(path, e, "state");
        if (!want) return want.error();
        const ItemScore* s = scoreOf(id.substr(0, id.find('/')));
        for (const auto& r : s->criteria) {
          if (r.criterion->id != id) continue;
          if (*want != stateName(r.state)) {
            diffs.push_back(at + id + " is " + stateName(r.state) + ", want " + *want + " (" +
                            r.reason + ")");
          }
        }
        continue;
      }
      return fieldError(path, e, "expect", "an expectation names an 'item' or a 'criterion'");
    }
    if (diffs.empty()) {
      ++outcome.passed;
    } else {
      ++outcome.failed;
      outcome.failures.insert(outcome.failures.end(), diffs.begin(), diffs.end());
    }
  }
  return outcome;
}

}  // namespace

Result<RuleTestOutcome> runRuleTests(const std::string& path, const EvidenceCatalog& catalog) {
  return guardYaml(path, [&] { return runRuleTestsImpl(path, catalog); });
}

}  // namespace opsm::scorer
