#pragma once
// The JSON shapes of evidence, scores and regressions, written once for every output that
// gives them: the API, `once --json` and `evidence export` (docs/api.md#shapes). Templates
// over a RapidJSON writer (compact or pretty). A change here changes them all; a change of a
// field's meaning raises kSchemaVersion.

#include <array>
#include <cstdlib>
#include <new>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <rapidjson/rapidjson.h>
#include <rapidjson/stringbuffer.h>

#include "common/duration.h"
#include "scorer/engine.h"
#include "scorer/evidence.h"
#include "scorer/regressions.h"
#include "scorer/scoring.h"

namespace opsm::scorer::json {

// The version of these shapes, given as `schema_version` by every JSON object the API answers,
// `once --json` and `evidence export` (docs/api.md#schema): raised when a field is removed or
// changes meaning, not when one is added. 2: evidence is one flat shape everywhere (times
// RFC 3339, `expired`, `default`), where `once --json` nested its source and gave Unix times.
inline constexpr int kSchemaVersion = 2;

// RapidJSON's allocator for output buffers, checked: the library's own (CrtAllocator) does
// not check what realloc returns, so running out of memory while rendering wrote through a
// null pointer (SIGSEGV). This one throws std::bad_alloc, which the server answers as 503.
struct CheckedAllocator {
  static const bool kNeedFree = true;
  void* Malloc(size_t size) {
    if (size == 0) return nullptr;
    void* p = std::malloc(size);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void* Realloc(void* original, size_t, size_t size) {
    if (size == 0) {
      std::free(original);
      return nullptr;
    }
    void* p = std::realloc(original, size);
    if (!p) throw std::bad_alloc();
    return p;
  }
  static void Free(void* p) { std::free(p); }
};
// The buffer every JSON answer is rendered into.
using Buffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, CheckedAllocator>;

template <typename W>
void string(W& w, const std::string& s) {
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

// true, 0.5, "text", ["a", "b"].
template <typename W>
void value(W& w, const Value& v) {
  switch (v.type()) {
    case ValueType::kBool: w.Bool(v.asBool()); break;
    case ValueType::kNumber: w.Double(v.asNumber()); break;
    case ValueType::kString: string(w, v.asString()); break;
    case ValueType::kList:
      w.StartArray();
      for (const auto& s : v.asList()) string(w, s);
      w.EndArray();
      break;
  }
}

// One piece of evidence: {key, value, collector, locator, via?, merged?, contributors?,
// observed_at, expires_at (RFC 3339, UTC), expired, default?}. `is_default`: a source's word
// on every system it knows, standing for this one (EvidenceStore, defaults).
template <typename W>
void evidence(W& w, const Evidence& e, TimePoint now, bool is_default = false) {
  w.StartObject();
  w.Key("key");
  string(w, e.key);
  w.Key("value");
  value(w, e.value);
  w.Key("collector");
  string(w, e.source.collector);
  w.Key("locator");
  string(w, e.source.locator);
  if (!e.source.via.empty()) {
    w.Key("via");  // the vendor key a domain key was derived from
    string(w, e.source.via);
  }
  if (!e.source.merged.empty()) {
    w.Key("merged");  // the merge of several sources' values
    string(w, e.source.merged);
  }
  if (!e.source.contributors.empty()) {
    w.Key("contributors");
    w.StartArray();
    for (const auto& c : e.source.contributors) string(w, c);
    w.EndArray();
  }
  w.Key("observed_at");
  string(w, formatTime(e.observed_at));
  w.Key("expires_at");
  string(w, formatTime(e.expires_at));
  w.Key("expired");
  w.Bool(e.expired(now));
  if (is_default) {
    w.Key("default");
    w.Bool(true);
  }
  w.EndObject();
}

// Calls fn(evidence, is_default) for a system's evidence as scoring reads it, sorted by key:
// its own, then for keys it has none of, the defaults of the sources that know it. The
// precedence is EvidenceStore::visit's, the scoring's own. Under the store's lock: `fn` must
// not call the store.
template <typename Fn>
void forEachEvidence(const EvidenceStore& store, const std::string& system, Fn fn) {
  store.visit(system, [&](const std::map<std::string, Evidence>& own,
                          const std::map<std::string, const Evidence*>& defaults) {
    std::map<std::string, std::pair<const Evidence*, bool>> rows;  // by key
    for (const auto& [key, e] : own) rows.emplace(key, std::make_pair(&e, false));
    for (const auto& [key, e] : defaults) rows.emplace(key, std::make_pair(e, true));  // own first
    for (const auto& [key, row] : rows) fn(*row.first, row.second);
  });
}

// A system's evidence (forEachEvidence) as an array; defaults are marked `default`.
template <typename W>
void systemEvidence(W& w, const EvidenceStore& store, const std::string& system, TimePoint now) {
  w.StartArray();
  forEachEvidence(store, system,
                  [&](const Evidence& e, bool is_default) { evidence(w, e, now, is_default); });
  w.EndArray();
}

// A level that is null where not applicable (N/A: not 0 and not 5): an item's is whole, a
// domain's an aggregate.
template <typename W, typename T>
void level(W& w, bool applicable, T v) {
  if (!applicable) {
    w.Null();
  } else if constexpr (std::is_integral_v<T>) {
    w.Int(v);
  } else {
    w.Double(v);
  }
}

// Progress per dimension of the standard (§5), for those `has(d)` says count.
template <typename W, typename Has>
void dimensions(W& w, const std::array<double, kDimensions>& progress, Has has) {
  w.StartObject();
  for (int d = 0; d < kDimensions; ++d) {
    if (!has(d)) continue;
    w.Key(dimensionName(static_cast<Dimension>(d)));
    w.Double(progress[d]);
  }
  w.EndObject();
}

// The fields of a system's score (inside an object the caller opens): system, level,
// progress, level_with_waivers, progress_with_waivers, waived, dimensions.
template <typename W>
void systemFields(W& w, const SystemScore& s) {
  w.Key("system");
  string(w, s.system);
  w.Key("level");
  w.Double(s.level);
  w.Key("progress");
  w.Double(s.progress);
  w.Key("level_with_waivers");  // counting waived criteria as passed (docs/attestations.md)
  w.Double(s.level_with_waivers);
  w.Key("progress_with_waivers");
  w.Double(s.progress_with_waivers);
  w.Key("waived");
  w.Int(s.waived);
  w.Key("dimensions");
  dimensions(w, s.dimension_progress, [](int) { return true; });
}

// The fields of a domain's score: domain, applicable, level, progress, level_with_waivers.
template <typename W>
void domainFields(W& w, const DomainScore& d) {
  w.Key("domain");
  string(w, d.domain);
  w.Key("applicable");
  w.Bool(d.applicable);
  w.Key("level");
  level(w, d.applicable, d.level);
  w.Key("progress");
  w.Double(d.progress);
  w.Key("level_with_waivers");
  level(w, d.applicable, d.level_with_waivers);
}

// The fields of an item's score, without its criteria: item, domain, applicable,
// applicability?, level, progress, level_with_waivers, waived, dimensions.
template <typename W>
void itemFields(W& w, const ItemScore& item) {
  w.Key("item");
  string(w, item.item);
  w.Key("domain");
  string(w, item.domain);
  w.Key("applicable");
  w.Bool(item.applicable);
  if (!item.applicability.empty()) {
    w.Key("applicability");  // why it is not applicable, or why that is unknown
    string(w, item.applicability);
  }
  w.Key("level");
  level(w, item.applicable, item.level);
  w.Key("progress");
  w.Double(item.progress);
  w.Key("level_with_waivers");
  level(w, item.applicable, item.level_with_waivers);
  w.Key("waived");
  w.Int(item.waived);
  w.Key("dimensions");
  dimensions(w, item.dimension_progress,
             [&](int d) { return item.applicable && item.dimension_criteria[d] != 0; });
}

// The fields of a criterion's result: id, level, state, waived, dimensions, evidenced_by,
// reason, zh, en.
template <typename W>
void criterionFields(W& w, const CriterionResult& c) {
  w.Key("id");
  string(w, c.criterion->id);
  w.Key("level");
  w.Int(c.criterion->level);
  w.Key("state");
  w.String(criterionStateName(c.state));
  w.Key("waived");  // not passed, and a waiver is in force: passed with waivers only
  w.Bool(c.waived);
  w.Key("dimensions");
  w.StartArray();
  for (int d = 0; d < kDimensions; ++d) {
    if (c.criterion->hasDimension(static_cast<Dimension>(d))) {
      w.String(dimensionName(static_cast<Dimension>(d)));
    }
  }
  w.EndArray();
  w.Key("evidenced_by");
  w.String(c.criterion->attestation && c.criterion->when ? "collectors_or_attestation"
           : c.criterion->attestation                    ? "attestation"
                                                         : "collectors");
  w.Key("reason");
  string(w, c.reason);
  w.Key("zh");
  string(w, c.criterion->zh);
  w.Key("en");
  string(w, c.criterion->en);
}

// A regression: {at, system, item, old_level, new_level, flipped: [{criterion, reason}]}.
template <typename W>
void regression(W& w, const RegressionEvent& r) {
  w.StartObject();
  w.Key("at");
  string(w, formatTime(r.at));
  w.Key("system");
  string(w, r.system);
  w.Key("item");
  string(w, r.item);
  w.Key("old_level");
  w.Int(r.old_level);
  w.Key("new_level");
  w.Int(r.new_level);
  w.Key("flipped");
  w.StartArray();
  for (const auto& [id, why] : r.flipped) {
    w.StartObject();
    w.Key("criterion");
    string(w, id);
    w.Key("reason");
    string(w, why);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace opsm::scorer::json
