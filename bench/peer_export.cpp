// Side-by-side with json-rules-engine and Cedar (bench/compare_json_rules_engine.sh and
// bench/compare_cedar.sh run this, then bench/peer/run.mjs or bench/peer/cedar.mjs):
// translates the compiled rule pack into json-rules-engine rules and into Cedar policies (one
// per criterion), writes the same synthetic evidence as facts, times opsmaturity's fast path
// on it, and writes which criteria pass for each system, for the peers to check they decide the
// same.
//
// Usage: peer_export N OUTDIR   -> OUTDIR/{rules,cedar,facts,expected,ours}.json
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "bench/estate.h"
#include "collectors/common/json.h"
#include "scorer/json.h"
#include "collectors/collector.h"
#include "scorer/check.h"
#include "scorer/keys.h"
#include "scorer/operators.h"
#include "scorer/scoring.h"

namespace {

using namespace opsm;
using scorer::Condition;
using W = rapidjson::Writer<rapidjson::StringBuffer>;

// Derived facts the peer cannot compute itself: len(key) and age(key).
std::set<std::string> g_len_keys, g_age_keys;

void condition(W& w, const Condition& c) {
  using K = Condition::Kind;
  using Op = Condition::Op;
  switch (c.kind) {
    case K::kAll:
    case K::kAny:
    case K::kAnyKnown:  // "pass" means the same for any and any_known
      w.StartObject();
      w.Key(c.kind == K::kAll ? "all" : "any");
      w.StartArray();
      for (const auto& child : c.children) condition(w, child);
      w.EndArray();
      w.EndObject();
      return;
    case K::kNot:
      w.StartObject();
      w.Key("not");
      condition(w, c.children.front());
      w.EndObject();
      return;
    case K::kExists:
      w.StartObject();
      w.Key("fact");
      w.String(c.key.c_str());
      w.Key("operator");
      w.String("present");
      w.Key("value");
      w.Bool(true);
      w.EndObject();
      return;
    case K::kCompare: {
      std::string fact = c.key;
      if (c.selector == Condition::Selector::kLength) {
        fact = "len(" + c.key + ")";
        g_len_keys.insert(c.key);
      } else if (c.selector == Condition::Selector::kAge) {
        fact = "age(" + c.key + ")";
        g_age_keys.insert(c.key);
      }
      static const std::map<Op, const char*> kOps = {
          {Op::kEq, "equal"},           {Op::kNe, "notEqual"},
          {Op::kLt, "lessThan"},        {Op::kLe, "lessThanInclusive"},
          {Op::kGt, "greaterThan"},     {Op::kGe, "greaterThanInclusive"},
          {Op::kIn, "in"},              {Op::kContains, "contains"},
          {Op::kMatches, "matches"}};
      w.StartObject();
      w.Key("fact");
      w.String(fact.c_str());
      w.Key("operator");
      w.String(kOps.at(c.op));
      w.Key("value");
      scorer::json::value(w, c.literal);
      w.EndObject();
      return;
    }
  }
}

// When criterion `c` passes: it applies, and its evidence shows it or an attestation says so.
void passes(W& w, const scorer::Criterion& c) {
  w.StartObject();
  w.Key("all");
  w.StartArray();
  if (c.applies_to) condition(w, *c.applies_to);
  w.StartObject();
  w.Key("any");
  w.StartArray();
  if (c.when) condition(w, *c.when);
  if (c.attestation) {
    w.StartObject();
    w.Key("fact");
    w.String(c.attestation_key.c_str());
    w.Key("operator");
    w.String("equal");
    w.Key("value");
    w.Bool(true);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
}

// ---- Cedar --------------------------------------------------------------------------------
// A criterion as a Cedar policy: permit when it passes. Cedar's conditions are two-valued, so
// each condition becomes two expressions, when it passes and when it fails, with opsmaturity's
// three-valued logic (missing evidence neither passes nor fails; `not` swaps the two; any_known
// fails only when a known alternative fails and none passes). Evidence is the request's context:
// numbers as Cedar decimals, lists as sets; len() and age() are facts of their own, as for
// json-rules-engine. What Cedar cannot say (a regular expression) stops the export: a translation
// that quietly decided otherwise would make the comparison a lie.

[[noreturn]] void untranslatable(const Condition& c, const std::string& why) {
  std::fprintf(stderr, "peer_export: %s cannot be said in Cedar: %s\n", c.source_text.c_str(),
               why.c_str());
  std::exit(1);
}

std::string cedarString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

// Cedar's decimal has four digits after the point.
std::string cedarDecimal(const Condition& c, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  if (std::strtod(buf, nullptr) != v) untranslatable(c, "the number " + std::to_string(v) + " needs more than four decimals");
  return std::string("decimal(\"") + buf + "\")";
}

struct Said {
  std::string pass, fail;
};

std::string joined(const std::vector<std::string>& parts, const char* op, const char* empty) {
  if (parts.empty()) return empty;
  std::string out = "(";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(" ") + op + " " : "") + parts[i];
  return out + ")";
}

Said cedarCondition(const Condition& c, const std::map<std::string, scorer::ValueType>& types) {
  using K = Condition::Kind;
  using Op = Condition::Op;
  switch (c.kind) {
    case K::kAll:
    case K::kAny:
    case K::kAnyKnown: {
      std::vector<std::string> pass, fail, not_pass;
      for (const auto& child : c.children) {
        Said s = cedarCondition(child, types);
        not_pass.push_back("!" + s.pass);
        pass.push_back(std::move(s.pass));
        fail.push_back(std::move(s.fail));
      }
      if (c.kind == K::kAll) return {joined(pass, "&&", "true"), joined(fail, "||", "false")};
      if (c.kind == K::kAny) return {joined(pass, "||", "false"), joined(fail, "&&", "true")};
      return {joined(pass, "||", "false"),
              "(" + joined(not_pass, "&&", "true") + " && " + joined(fail, "||", "false") + ")"};
    }
    case K::kNot: {
      Said s = cedarCondition(c.children.front(), types);
      return {s.fail, s.pass};
    }
    case K::kExists: {
      const std::string has = "(context has " + cedarString(c.key) + ")";
      return {has, "!" + has};
    }
    case K::kCompare:
      break;
  }
  std::string fact = c.key;
  scorer::ValueType type = scorer::ValueType::kNumber;
  if (c.selector == Condition::Selector::kLength) {
    fact = "len(" + c.key + ")";
    g_len_keys.insert(c.key);
  } else if (c.selector == Condition::Selector::kAge) {
    fact = "age(" + c.key + ")";
    g_age_keys.insert(c.key);
  } else {
    type = types.at(c.key);
  }
  const scorer::Operator& op = scorer::operatorOf(c.op);
  // Evidence of a type the operator does not take is unknown: neither passes nor fails.
  if (!scorer::takes(op, type, c.literal)) return {"false", "false"};
  const std::string v = "context[" + cedarString(fact) + "]";
  std::string holds;
  switch (c.op) {
    case Op::kEq:
    case Op::kNe: {
      std::string lit = type == scorer::ValueType::kNumber ? cedarDecimal(c, c.literal.asNumber())
                        : type == scorer::ValueType::kBool ? (c.literal.asBool() ? "true" : "false")
                                                           : cedarString(c.literal.asString());
      holds = v + (c.op == Op::kEq ? " == " : " != ") + lit;
      break;
    }
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      static const std::map<Op, const char*> kMethods = {{Op::kLt, "lessThan"},
                                                         {Op::kLe, "lessThanOrEqual"},
                                                         {Op::kGt, "greaterThan"},
                                                         {Op::kGe, "greaterThanOrEqual"}};
      holds = v + "." + kMethods.at(c.op) + "(" + cedarDecimal(c, c.literal.asNumber()) + ")";
      break;
    }
    case Op::kIn: {
      if (type != scorer::ValueType::kString) untranslatable(c, "'in' of a non-string key compares its text");
      std::string set;
      for (const auto& x : c.literal.asList()) set += (set.empty() ? "" : ", ") + cedarString(x);
      holds = "[" + set + "].contains(" + v + ")";
      break;
    }
    case Op::kContains:
      if (type == scorer::ValueType::kList) {
        holds = v + ".contains(" + cedarString(c.literal.asString()) + ")";
      } else {
        // A substring: `like` with the literal's own characters escaped (\*, \", \\).
        std::string pattern = "\"*";
        for (char ch : c.literal.asString()) {
          if (ch == '*' || ch == '"' || ch == '\\') pattern += '\\';
          pattern += ch;
        }
        holds = v + " like " + pattern + "*\"";
      }
      break;
    case Op::kMatches:
      untranslatable(c, "Cedar has no regular expressions");
  }
  const std::string has = "context has " + cedarString(fact);
  return {"(" + has + " && " + holds + ")", "(" + has + " && !(" + holds + "))"};
}

// When criterion `c` passes: it applies, and its evidence shows it or an attestation says so.
std::string cedarPasses(const scorer::Criterion& c, const std::map<std::string, scorer::ValueType>& types) {
  std::vector<std::string> shown;
  if (c.when) shown.push_back(cedarCondition(*c.when, types).pass);
  if (c.attestation) {
    const std::string k = cedarString(c.attestation_key);
    shown.push_back("(context has " + k + " && context[" + k + "] == true)");
  }
  std::string out = joined(shown, "||", "false");
  if (c.applies_to) out = "(" + cedarCondition(*c.applies_to, types).pass + " && " + out + ")";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: peer_export N OUTDIR\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const std::string dir = argv[2];
  const scorer::RulePack& pack = bench::shippedPack();

  // Rules: one per criterion, its event named after it.
  rapidjson::StringBuffer rb, cb;
  W rw(rb), cw(cb);
  rw.StartArray();
  cw.StartObject();
  const std::map<std::string, scorer::ValueType> keys = bench::packKeys(pack);
  std::vector<const scorer::Criterion*> criteria;
  for (const auto& item : pack.items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        criteria.push_back(&c);
        rw.StartObject();
        rw.Key("name");
        rw.String(c.id.c_str());
        rw.Key("event");
        rw.StartObject();
        rw.Key("type");
        rw.String(c.id.c_str());
        rw.EndObject();
        rw.Key("conditions");
        // A floor (a level-1 starting point) also passes when the practice it names passes.
        const scorer::Criterion* above = nullptr;
        if (c.floor_of_index >= 0) {
          size_t k = 0;
          for (const auto& l : item.levels) {
            for (const auto& x : l.criteria) {
              if (k++ == static_cast<size_t>(c.floor_of_index)) above = &x;
            }
          }
        }
        rw.StartObject();
        rw.Key("any");
        rw.StartArray();
        passes(rw, c);
        if (above) passes(rw, *above);
        rw.EndArray();
        rw.EndObject();
        rw.EndObject();
        // The same criterion as a Cedar policy, its id the criterion's.
        std::string when = cedarPasses(c, keys);
        if (above) when = "(" + when + " || " + cedarPasses(*above, keys) + ")";
        cw.Key(c.id.c_str());
        cw.String(("permit (principal, action, resource) when { " + when + " };").c_str());
      }
    }
  }
  rw.EndArray();
  cw.EndObject();
  std::ofstream(dir + "/rules.json") << rb.GetString();
  std::ofstream(dir + "/cedar.json") << cb.GetString();

  // Evidence: the same generator as scoring_bench, none expired.
  const TimePoint now = Clock::now();
  std::vector<std::map<std::string, scorer::Evidence>> estate(n);
  for (int s = 0; s < n; ++s) {
    int i = 0;
    for (const auto& [key, type] : keys) {
      ++i;
      if ((s + i) % 7 == 0) continue;
      scorer::Evidence e;
      e.key = key;
      e.system = "system-" + std::to_string(s);
      switch (type) {
        case scorer::ValueType::kBool: e.value = (s + i) % 3 != 0; break;
        case scorer::ValueType::kNumber: e.value = static_cast<double>((s * 31 + i * 17) % 100) / 10; break;
        case scorer::ValueType::kString: e.value = std::string((s + i) % 2 ? "master" : "ready"); break;
        case scorer::ValueType::kList:
          e.value = (s + i) % 2 ? scorer::StringList{"logs", "node", "tracing", "http", "pagerduty"}
                                : scorer::StringList{"node"};
          break;
      }
      e.observed_at = now - std::chrono::seconds((s * 13 + i) % 5000);
      e.expires_at = now + std::chrono::hours(1);
      estate[s].emplace(key, std::move(e));
    }
    int j = 0;
    for (const auto* c : criteria) {
      if (!c->attestation || (s + ++j) % 2) continue;
      scorer::Evidence e;
      e.key = c->attestation_key;
      e.system = "system-" + std::to_string(s);
      e.value = (s + j) % 5 != 0;
      e.observed_at = now - std::chrono::hours(24);
      e.expires_at = now + std::chrono::hours(24 * 300);
      estate[s].emplace(e.key, std::move(e));
    }
  }
  rapidjson::StringBuffer fb;
  W fw(fb);
  fw.StartArray();
  for (int s = 0; s < n; ++s) {
    fw.StartObject();
    for (const auto& [key, e] : estate[s]) {
      fw.Key(key.c_str());
      scorer::json::value(fw, e.value);
      if (g_len_keys.count(key) && (e.value.isList() || e.value.isString())) {
        fw.Key(("len(" + key + ")").c_str());
        fw.Double(static_cast<double>(e.value.isList() ? e.value.asList().size() : e.value.asString().size()));
      }
      if (g_age_keys.count(key)) {
        fw.Key(("age(" + key + ")").c_str());
        fw.Double(std::chrono::duration<double>(now - e.observed_at).count());
      }
    }
    fw.EndObject();
  }
  fw.EndArray();
  std::ofstream(dir + "/facts.json") << fb.GetString();

  // Ours: the fast path, after load, timed over several scorings of the whole estate.
  std::vector<scorer::EvidenceIndex> index(n);
  for (int s = 0; s < n; ++s) scorer::buildIndex(estate[s], &index[s]);
  scorer::ScoringConfig fast;
  fast.explain = false;
  std::vector<scorer::SystemScore> scores(n);
  const int rounds = 5;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (int s = 0; s < n; ++s) {
      scores[s] = scorer::scoreSystem("s", pack, scorer::EvalContext{estate[s], now, &index[s]}, fast);
    }
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / rounds;

  rapidjson::StringBuffer eb;
  W ew(eb);
  ew.StartArray();
  size_t passes = 0;
  for (int s = 0; s < n; ++s) {
    ew.StartArray();
    for (const auto& item : scores[s].items) {
      for (const auto& c : item.criteria) {
        if (c.state == scorer::CriterionState::kPass) {
          ew.String(c.criterion->id.c_str());
          ++passes;
        }
      }
    }
    ew.EndArray();
  }
  ew.EndArray();
  std::ofstream(dir + "/expected.json") << eb.GetString();
  std::ofstream(dir + "/ours.json") << "{\"systems\": " << n << ", \"criteria\": " << criteria.size()
                                    << ", \"ms\": " << ms << ", \"passes\": " << passes << "}\n";
  std::printf("opsmaturity: %d systems x %zu criteria in %.1f ms (%.2f us per system), %zu passes\n",
              n, criteria.size(), ms, ms * 1000 / n, passes);
  return 0;
}
