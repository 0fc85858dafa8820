// Side-by-side with json-rules-engine (bench/compare_json_rules_engine.sh runs this, then
// bench/peer/run.mjs): translates the compiled rule pack into json-rules-engine rules, writes
// the same synthetic evidence as facts, times opsmaturity's fast path on it, and writes which
// criteria pass for each system, for the peer to check it decides the same.
//
// Usage: peer_export N OUTDIR   -> OUTDIR/{rules,facts,expected,ours}.json
#include <chrono>
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
  rapidjson::StringBuffer rb;
  W rw(rb);
  rw.StartArray();
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
      }
    }
  }
  rw.EndArray();
  std::ofstream(dir + "/rules.json") << rb.GetString();

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
