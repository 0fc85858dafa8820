#include "scorer/evidence.h"

#include "scorer/domain.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace opsm::scorer {

const char* valueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kBool:
      return "bool";
    case ValueType::kNumber:
      return "number";
    case ValueType::kString:
      return "string";
    case ValueType::kList:
      return "list";
  }
  return "unknown";
}

namespace {

std::string formatNumber(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<long long>(d));
  }
  std::ostringstream out;
  out.precision(6);
  out << d;
  return out.str();
}

}  // namespace

std::string Value::toString() const {
  switch (type()) {
    case ValueType::kBool:
      return asBool() ? "true" : "false";
    case ValueType::kNumber:
      return formatNumber(asNumber());
    case ValueType::kString:
      return "\"" + asString() + "\"";
    case ValueType::kList: {
      std::string out = "[";
      for (size_t i = 0; i < asList().size(); ++i) {
        if (i) out += ", ";
        out += "\"" + asList()[i] + "\"";
      }
      return out + "]";
    }
  }
  return "";
}

bool isValidSystemName(std::string_view name, std::string* why) {
  auto no = [&](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  if (name.empty()) return no("is empty");
  if (name.size() > 128) return no("is longer than 128 bytes");
  if (name == kAnySystem) return no("'*' stands for every system a source knows, not a system");
  for (size_t i = 0; i < name.size();) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) return no("contains a control character");
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > name.size()) return no("is not valid UTF-8");
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(name[i + k]) & 0xc0) != 0x80) return no("is not valid UTF-8");
    }
    // overlong forms, surrogates and code points past U+10FFFF
    if ((len == 2 && c < 0xc2) ||
        (len == 3 && c == 0xe0 && static_cast<unsigned char>(name[i + 1]) < 0xa0) ||
        (len == 3 && c == 0xed && static_cast<unsigned char>(name[i + 1]) >= 0xa0) ||
        (len == 4 && c == 0xf0 && static_cast<unsigned char>(name[i + 1]) < 0x90) ||
        (len == 4 && (c > 0xf4 || (c == 0xf4 && static_cast<unsigned char>(name[i + 1]) >= 0x90)))) {
      return no("is not valid UTF-8");
    }
    if (len == 2 && c == 0xc2 && static_cast<unsigned char>(name[i + 1]) < 0xa0) {
      return no("contains a control character");  // C1 controls U+0080..U+009F
    }
    i += len;
  }
  return true;
}

bool isReservedSourceName(std::string_view name) {
  for (const char* r : kReservedSourceNames) {
    if (name == r) return true;
  }
  return false;
}

std::vector<Evidence> toEvidence(const std::string& collector, std::vector<Fact> facts,
                                 TimePoint now, Duration ttl, SourceKind kind) {
  std::vector<Evidence> out;
  out.reserve(facts.size());
  for (auto& f : facts) {
    Evidence e;
    e.key = std::move(f.key);
    e.system = std::move(f.system);
    e.value = std::move(f.value);
    e.observed_at = now;
    e.expires_at = now + ttl;
    e.source = Source{collector, std::move(f.locator), kind};
    out.push_back(std::move(e));
  }
  return out;
}

void EvidenceStore::drop(const std::string& collector, const std::string& system,
                         const std::string& key) {
  auto sys = by_system_.find(system);
  if (sys == by_system_.end()) return;
  if (auto sh = shared_.find({system, key}); sh != shared_.end()) {
    sh->second.erase(collector);
    settle(sys->second, sh);
  } else if (auto slot = sys->second.find(key);
             // a slot another source wrote since is that source's now
             slot != sys->second.end() && slot->second.source.collector == collector) {
    sys->second.erase(slot);
  }
  if (sys->second.empty()) by_system_.erase(sys);
}

void EvidenceStore::add(const std::string& collector, Evidence e) {
  auto& sys = by_system_[e.system];
  auto slot = sys.find(e.key);
  auto sh = shared_.end();
  // A domain key another source gives too: both are kept and merged (scorer/domain.h).
  if (slot != sys.end() && findDomainKey(e.key)) {
    sh = shared_.find({e.system, e.key});
    if (sh == shared_.end() && slot->second.source.collector != collector) {
      sh = shared_.try_emplace({e.system, e.key}).first;
      std::string other = slot->second.source.collector;
      sh->second.emplace(std::move(other), std::move(slot->second));
    }
  }
  if (sh == shared_.end()) {
    std::string key = e.key;
    sys[key] = std::move(e);
    return;
  }
  sh->second[collector] = std::move(e);
  settle(sys, sh);
}

void EvidenceStore::settle(std::map<std::string, Evidence>& sys, SharedSlots::iterator sh) {
  const std::string& key = sh->first.second;
  if (sh->second.empty()) {
    sys.erase(key);
    shared_.erase(sh);
    return;
  }
  if (sh->second.size() == 1) {
    sys[key] = std::move(sh->second.begin()->second);
    shared_.erase(sh);
    return;
  }
  std::vector<const Evidence*> parts;
  for (const auto& [_, e] : sh->second) parts.push_back(&e);
  sys[key] = mergeEvidence(findDomainKey(key)->merge, parts);
}

namespace {

// splitmix64's finalizer: spreads every input bit over the result.
uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

uint64_t combine(uint64_t seed, uint64_t v) { return mix(seed ^ (v + 0x9e3779b97f4a7c15ULL)); }

uint64_t hashText(std::string_view s) { return std::hash<std::string_view>{}(s); }

uint64_t hashValue(const Value& v) {
  uint64_t h = static_cast<uint64_t>(v.type()) + 1;
  switch (v.type()) {
    case ValueType::kBool:
      return combine(h, v.asBool());
    case ValueType::kNumber: {
      double d = v.asNumber();
      if (d == 0) d = 0;  // -0 == 0
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return combine(h, bits);
    }
    case ValueType::kString:
      return combine(h, hashText(v.asString()));
    case ValueType::kList:
      for (const auto& x : v.asList()) h = combine(h, hashText(x));
      return combine(h, v.asList().size());
  }
  return h;
}

uint64_t ticks(TimePoint t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }

// What of one piece of evidence can change a score; see EvidenceStore::Changes.
uint64_t evidencePrint(const Evidence& e, bool timed, const std::optional<TimePoint>& now) {
  uint64_t h = combine(hashText(e.key), 1);
  h = combine(h, hashValue(e.value));
  h = combine(h, hashText(e.source.collector));
  h = combine(h, static_cast<uint64_t>(e.source.kind));
  for (const auto& c : e.source.contributors) h = combine(h, hashText(c));
  // A collector's evidence expires a TTL after each poll: only whether it has expired counts
  // (its expiry is a wake time, docs/architecture.md). The expiry of an attestation or a
  // config attribute is its own (a renewed attestation's, shown on /metrics): it counts.
  const bool expiry_counts = !now || !e.source.polled();
  h = combine(h, expiry_counts ? ticks(e.expires_at) : static_cast<uint64_t>(e.expired(*now)));
  if (timed) h = combine(h, ticks(e.observed_at));
  return h;
}

}  // namespace

uint64_t EvidenceStore::slotPrint(const std::map<std::string, Evidence>* system,
                                  const std::string& key,
                                  const std::optional<TimePoint>& now) const {
  const Evidence* e = nullptr;
  if (system) {
    if (auto k = system->find(key); k != system->end()) e = &k->second;
  }
  return e ? evidencePrint(*e, !timed_keys_.empty() && timed_keys_.count(key) > 0, now)
           : combine(hashText(key), 0);
}

uint64_t EvidenceStore::knowersPrint(const std::string& system) const {
  uint64_t h = 0x6b6e6f7765727321ULL;
  if (auto k = known_by_.find(system); k != known_by_.end()) {
    for (const auto& c : k->second) h = combine(h, hashText(c));
  }
  return h;
}

uint64_t EvidenceStore::defaultsPrint(const std::string& collector,
                                      const std::optional<TimePoint>& now) const {
  uint64_t h = 0x64656661756c7473ULL;
  if (auto d = defaults_.find(collector); d != defaults_.end()) {
    for (const auto& [key, e] : d->second) {
      h = combine(h, evidencePrint(e, timed_keys_.count(key) > 0, now));
    }
  }
  return h;
}

void EvidenceStore::replaceFromCollector(const std::string& collector,
                                         std::vector<Evidence> evidence,
                                         std::optional<TimePoint> now) {
  std::lock_guard lock(mu_);
  // Fingerprints of every system the replacement touches, before and after, over the same
  // slots: those the collector wrote last time and those it writes now (a slot listed twice
  // counts twice in both), and the sources that know the system. Sums: order does not matter.
  struct Prints {
    uint64_t before = 0, after = 0;
    bool knowers_before = false, knowers_after = false;
  };
  std::unordered_map<std::string, Prints> prints;
  const std::string* last = nullptr;
  Prints* p = nullptr;
  const std::map<std::string, Evidence>* slots = nullptr;  // the last system's
  auto account = [&](bool before, const std::string& system, const std::string& key) {
    if (!last || *last != system) {
      auto it = prints.try_emplace(system).first;
      last = &it->first;
      p = &it->second;
      auto s = by_system_.find(system);
      slots = s == by_system_.end() ? nullptr : &s->second;
    }
    uint64_t& sum = before ? p->before : p->after;
    bool& knowers = before ? p->knowers_before : p->knowers_after;
    if (!knowers) {
      knowers = true;
      sum += knowersPrint(system);
    }
    sum += slotPrint(slots, key, now);
  };
  auto old_written = std::move(written_[collector]);
  for (const auto& [system, key] : old_written) account(true, system, key);
  for (const auto& e : evidence) {
    if (e.system != kAnySystem) account(true, e.system, e.key);
  }
  const uint64_t defaults_before = defaultsPrint(collector, now);

  auto& written = written_[collector];
  written.clear();
  for (const auto& [system, key] : old_written) {
    if (auto k = known_by_.find(system); k != known_by_.end()) {
      k->second.erase(collector);
      if (k->second.empty()) known_by_.erase(k);
    }
    drop(collector, system, key);
  }
  bool had_defaults = defaults_.erase(collector) > 0;
  bool has_defaults = false;
  for (auto& e : evidence) {
    if (e.system == kAnySystem) {
      std::string key = e.key;
      defaults_[collector][key] = std::move(e);
      has_defaults = true;
      continue;
    }
    written.emplace_back(e.system, e.key);
    known_by_[e.system].insert(collector);
    add(collector, std::move(e));
  }
  if (had_defaults || has_defaults) merged_.clear();

  last = nullptr;
  for (const auto& [system, key] : old_written) account(false, system, key);
  for (const auto& [system, key] : written) account(false, system, key);
  for (const auto& [system, pr] : prints) {
    if (pr.before != pr.after) changes_.systems.insert(system);
  }
  if (defaultsPrint(collector, now) != defaults_before) changes_.defaults = true;
  if (written.empty()) written_.erase(collector);
}

const std::map<std::string, const Evidence*>& EvidenceStore::mergedDefaults(
    const std::vector<std::string>& sources) const {
  auto [it, inserted] = merged_.try_emplace(sources);
  auto& merged = it->second;
  if (!inserted) return merged.view;
  std::map<std::string, std::vector<const Evidence*>> shared;  // domain keys of several sources
  for (const auto& collector : sources) {
    auto d = defaults_.find(collector);
    if (d == defaults_.end()) continue;
    for (const auto& [key, e] : d->second) {
      auto& chosen = merged.view[key];
      if (chosen && findDomainKey(key)) {
        auto& parts = shared[key];
        if (parts.empty()) parts.push_back(chosen);
        parts.push_back(&e);
      }
      if (!chosen || e.observed_at > chosen->observed_at) chosen = &e;
    }
  }
  for (const auto& [key, parts] : shared) {
    auto& e = merged.owned[key] = mergeEvidence(findDomainKey(key)->merge, parts);
    merged.view[key] = &e;
  }
  return merged.view;
}

void EvidenceStore::put(Evidence evidence) {
  std::lock_guard lock(mu_);
  if (evidence.system == kAnySystem) {
    std::string collector = evidence.source.collector, key = evidence.key;
    defaults_[collector][key] = std::move(evidence);
    merged_.clear();
    changes_.defaults = true;
    return;
  }
  changes_.systems.insert(evidence.system);
  std::string collector = evidence.source.collector;
  known_by_[evidence.system].insert(collector);
  add(collector, std::move(evidence));
}

namespace {

// A source's default as evidence of `system`.
Evidence asEvidenceOf(const Evidence& by_default, const std::string& system) {
  Evidence e = by_default;
  e.system = system;
  return e;
}

}  // namespace

std::optional<Evidence> EvidenceStore::find(const std::string& system,
                                            const std::string& key) const {
  std::optional<Evidence> out;
  visit(system, [&](const std::map<std::string, Evidence>& own,
                    const std::map<std::string, const Evidence*>& defaults) {
    if (auto k = own.find(key); k != own.end()) {
      out = k->second;
    } else if (auto d = defaults.find(key); d != defaults.end()) {
      out = asEvidenceOf(*d->second, system);
    }
  });
  return out;
}

std::vector<std::string> EvidenceStore::systems() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, _] : by_system_) out.push_back(name);
  return out;
}

std::vector<Evidence> EvidenceStore::forSystem(const std::string& system) const {
  std::vector<Evidence> out;
  for (auto& [_, e] : snapshot(system)) out.push_back(e);
  return out;
}

void EvidenceStore::visit(
    const std::string& system,
    const std::function<void(const std::map<std::string, Evidence>&,
                             const std::map<std::string, const Evidence*>&)>& fn) const {
  std::lock_guard lock(mu_);
  visitLocked(system, fn);
}

void EvidenceStore::visitLocked(
    const std::string& system,
    const std::function<void(const std::map<std::string, Evidence>&,
                             const std::map<std::string, const Evidence*>&)>& fn) const {
  static const std::map<std::string, Evidence> kNone;
  static const std::map<std::string, const Evidence*> kNoDefaults;
  auto s = by_system_.find(system);
  // The sources that know the system and have defaults: only theirs count for it. (Nothing
  // to look up unless some source has defaults: this runs once per system per scoring.)
  const std::map<std::string, const Evidence*>* defaults = &kNoDefaults;
  if (!defaults_.empty()) {
    knowers(system, &scratch_);
    std::erase_if(scratch_, [&](const std::string& c) { return !defaults_.count(c); });
    if (!scratch_.empty()) defaults = &mergedDefaults(scratch_);
  }
  fn(s == by_system_.end() ? kNone : s->second, *defaults);
}

void EvidenceStore::setSystemsFrom(const std::string& collector,
                                   const std::vector<std::string>& others) {
  std::lock_guard lock(mu_);
  for (auto& [_, list] : extended_by_) std::erase(list, collector);
  for (const auto& o : others) extended_by_[o].push_back(collector);
  merged_.clear();
  changes_.defaults = true;  // the collector's defaults may count for other systems now
}

bool EvidenceStore::hasSystem(const std::string& system) const {
  std::lock_guard lock(mu_);
  return by_system_.count(system) > 0;
}

namespace {

// A system's own evidence, and for the keys it has none of, the defaults that count for it
// (named as the system's).
std::map<std::string, Evidence> withDefaults(const std::map<std::string, Evidence>& own,
                                             const std::map<std::string, const Evidence*>& defaults,
                                             const std::string& system) {
  std::map<std::string, Evidence> out = own;
  for (const auto& [key, e] : defaults) {
    if (!out.count(key)) out.emplace(key, asEvidenceOf(*e, system));
  }
  return out;
}

}  // namespace

EvidenceStore::Changes EvidenceStore::takeChanges() {
  std::lock_guard lock(mu_);
  Changes out = std::exchange(changes_, Changes{});
  out.epoch = ++epoch_;
  return out;
}

std::optional<EvidenceStore::Scored> EvidenceStore::unchangedSince(const std::string& system,
                                                                   uint64_t epoch) const {
  std::lock_guard lock(mu_);
  if (epoch != epoch_ || changes_.defaults || changes_.systems.count(system)) return std::nullopt;
  Scored out;
  visitLocked(system, [&](const std::map<std::string, Evidence>& own,
                          const std::map<std::string, const Evidence*>& defaults) {
    out.evidence = withDefaults(own, defaults, system);
  });
  knowers(system, &out.known_by);
  return out;
}

void EvidenceStore::setTimedKeys(std::set<std::string> keys) {
  std::lock_guard lock(mu_);
  timed_keys_ = std::move(keys);
}

void EvidenceStore::knowers(const std::string& system, std::vector<std::string>* out) const {
  out->clear();
  auto k = known_by_.find(system);
  if (k == known_by_.end()) return;
  out->assign(k->second.begin(), k->second.end());  // a std::set: sorted, unique
  if (extended_by_.empty()) return;
  for (const auto& c : k->second) {
    if (auto e = extended_by_.find(c); e != extended_by_.end()) {
      out->insert(out->end(), e->second.begin(), e->second.end());
    }
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

std::vector<std::string> EvidenceStore::knownBy(const std::string& system) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  knowers(system, &out);
  return out;
}

std::map<std::string, Evidence> EvidenceStore::snapshot(const std::string& system) const {
  std::map<std::string, Evidence> out;
  visit(system, [&](const std::map<std::string, Evidence>& own,
                    const std::map<std::string, const Evidence*>& defaults) {
    out = withDefaults(own, defaults, system);
  });
  return out;
}

}  // namespace opsm::scorer
