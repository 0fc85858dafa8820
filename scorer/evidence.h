#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/duration.h"

namespace opsm::scorer {

using StringList = std::vector<std::string>;

enum class ValueType { kBool, kNumber, kString, kList };
const char* valueTypeName(ValueType t);

// The typed value of a piece of evidence.
class Value {
 public:
  Value() : v_(false) {}
  Value(bool b) : v_(b) {}                       // NOLINT: implicit by design
  Value(double d) : v_(d) {}                     // NOLINT
  Value(int i) : v_(static_cast<double>(i)) {}   // NOLINT
  Value(std::string s) : v_(std::move(s)) {}     // NOLINT
  Value(const char* s) : v_(std::string(s)) {}   // NOLINT
  Value(StringList l) : v_(std::move(l)) {}      // NOLINT

  ValueType type() const { return static_cast<ValueType>(v_.index()); }
  bool isBool() const { return type() == ValueType::kBool; }
  bool isNumber() const { return type() == ValueType::kNumber; }
  bool isString() const { return type() == ValueType::kString; }
  bool isList() const { return type() == ValueType::kList; }
  bool asBool() const { return std::get<bool>(v_); }
  double asNumber() const { return std::get<double>(v_); }
  const std::string& asString() const { return std::get<std::string>(v_); }
  const StringList& asList() const { return std::get<StringList>(v_); }

  // Human-readable rendering for explanations: true, 0.5, "text", ["a", "b"].
  std::string toString() const;
  bool operator==(const Value& other) const = default;

 private:
  std::variant<bool, double, std::string, StringList> v_;
};

// For test failure messages (GoogleTest finds it by argument-dependent lookup).
inline void PrintTo(const Value& v, std::ostream* os) { *os << v.toString(); }

// What a collector observed, before the agent stamps time and provenance on it.
struct Fact {
  std::string key;      // dotted, e.g. monitoring.prometheus.targets_up_ratio
  std::string system;   // the scored system the fact is about
  Value value;
  std::string locator;  // where exactly it came from: URL path, query, command
};

// What kind of source evidence comes from. Only collectors are polled: their evidence goes
// stale when they fail, is stored durably and counts in the stale ratio. The others are the
// agent's own, under reserved names no collector may take (kReservedSourceNames).
enum class SourceKind : uint8_t {
  kCollector,        // a configured collector, by its name
  kConfig,           // the config's system attributes ("config")
  kAttestationFile,  // the attestations file ("attestations")
  kAttestationApi,   // attestations made through the API ("attestations-api")
};

// The names of the agent's own sources, refused as collector names.
inline constexpr const char* kReservedSourceNames[] = {"config", "attestations",
                                                       "attestations-api"};
bool isReservedSourceName(std::string_view name);

struct Source {
  Source() = default;
  Source(std::string c, std::string l, SourceKind k = SourceKind::kCollector)
      : collector(std::move(c)), locator(std::move(l)), kind(k) {}
  std::string collector;  // collector instance name from the config, or a reserved name
  std::string locator;
  SourceKind kind = SourceKind::kCollector;
  bool polled() const { return kind == SourceKind::kCollector; }
  // For a domain key (scorer/domain.h) derived from a vendor key: that vendor key.
  std::string via;
  // For a domain key several sources gave: the merge and every source's value
  // ("max of prom 3, zbx 5"); empty otherwise.
  std::string merged;
  // For merged evidence: every contributing collector (the deciding one is `collector`).
  std::vector<std::string> contributors;
};

struct Evidence {
  std::string key;
  std::string system;
  Value value;
  TimePoint observed_at{};
  TimePoint expires_at{};
  Source source;

  bool expired(TimePoint now) const { return now >= expires_at; }
};

// Turns a collector's facts into evidence observed at `now`, valid for `ttl`.
std::vector<Evidence> toEvidence(const std::string& collector, std::vector<Fact> facts,
                                 TimePoint now, Duration ttl,
                                 SourceKind kind = SourceKind::kCollector);

// The system of a source's default evidence: what a source says of every system it knows
// (reports something specific of) without repeating it per system: a Prometheus server's
// scrape config, its alerting rules without a system label. A default counts for a system only
// when the same source knows that system (attribution, docs/architecture.md): a source's
// server-wide facts say nothing of systems it has never seen. A default never creates a
// system, and specific evidence of any source beats it, so that 1,000 sources of one kind cost
// O(sources + systems), not O(sources x systems).
inline const std::string kAnySystem = "*";

// The rule for a system name, wherever one enters (config, sources, the attestation API):
// 1 to 128 bytes of valid UTF-8 without control characters, and not "*". A source's fact
// about a name that breaks it is dropped (and said); config and API errors give `why`.
bool isValidSystemName(std::string_view name, std::string* why = nullptr);

// In-memory evidence, keyed by system then key. Thread-safe. When several sources report the
// same vendor key for the same system, the last one written is kept (the most recent poll); a
// domain key (scorer/domain.h) several sources give is their merge, which names them all.
class EvidenceStore {
 public:
  // Replaces everything `collector` reported before with `evidence`: evidence the collector
  // no longer reports disappears, evidence of other collectors is untouched. `now` (the
  // agent's clock) lets a re-poll that only refreshes evidence leave its systems unchanged
  // for takeChanges(); without it, any new expiry time changes them.
  void replaceFromCollector(const std::string& collector, std::vector<Evidence> evidence,
                            std::optional<TimePoint> now = std::nullopt);

  // Adds or replaces single pieces of evidence (attestations, tests).
  void put(Evidence evidence);

  std::optional<Evidence> find(const std::string& system, const std::string& key) const;
  // Systems with specific evidence (defaults do not make a system).
  std::vector<std::string> systems() const;
  std::vector<Evidence> forSystem(const std::string& system) const;

  // A consistent copy of one system's evidence for scoring: its specific evidence, and for
  // keys without any, the most recent default of the sources that know the system (named
  // `system` in the copy).
  std::map<std::string, Evidence> snapshot(const std::string& system) const;

  // The same without a copy, for scoring many systems: calls `fn` with the system's own
  // evidence and the newest default of every key among the sources that know the system
  // (whose `system` is "*"), under the store's lock, which `fn` must not take again.
  void visit(const std::string& system,
             const std::function<void(const std::map<std::string, Evidence>& own,
                                      const std::map<std::string, const Evidence*>& defaults)>&
                 fn) const;

  // `collector` knows every system that one of `others` knows (config `systems_from`).
  void setSystemsFrom(const std::string& collector, const std::vector<std::string>& others);

  // Whether `system` has specific evidence (is among systems()).
  bool hasSystem(const std::string& system) const;

  // What changed since the last takeChanges(), for incremental scoring: the systems whose
  // evidence as scoring sees it may have changed (a value, the deciding source or its
  // contributors, whether a collector's evidence had expired when replaced, the expiry of
  // other sources' evidence, the sources that know the system, and for timed keys the
  // observation time), and whether any source's defaults changed
  // (they count for every system their source knows). A re-poll that gives the same values
  // changes nothing. Compared by 64-bit fingerprints; put() and setSystemsFrom() always count.
  struct Changes {
    std::set<std::string> systems;
    bool defaults = false;
    uint64_t epoch = 0;  // counts takeChanges() calls: this one's number
  };
  Changes takeChanges();
  // What the last scoring scored `system` on, for explaining it as that scoring did: its
  // evidence as snapshot() gives it and the sources that know it — when `epoch` is the last
  // takeChanges()'s and nothing scoring reads of the system changed since (no change of it,
  // none of any source's defaults). nullopt otherwise.
  struct Scored {
    std::map<std::string, Evidence> evidence;
    std::vector<std::string> known_by;
  };
  std::optional<Scored> unchangedSince(const std::string& system, uint64_t epoch) const;
  // Keys whose observation time decides something (an age() condition): their refreshed
  // evidence changes its system even with the same value.
  void setTimedKeys(std::set<std::string> keys);
  // The sources that know `system`, sorted: those whose last report has specific evidence of
  // it, and those that know the systems of one of them (setSystemsFrom).
  std::vector<std::string> knownBy(const std::string& system) const;

 private:
  // knownBy() into `out` (reusing its storage); mu_ held.
  void knowers(const std::string& system, std::vector<std::string>* out) const;
  // The merged defaults of the sources in `sources` (sorted): the newest per key, a domain
  // key's merge where several give it. mu_ held.
  const std::map<std::string, const Evidence*>& mergedDefaults(
      const std::vector<std::string>& sources) const;
  // Contributions to a domain key that several sources give for one system, by (system, key)
  // then collector; the system's slot holds their merge. A slot with one source is not here.
  using SharedSlots =
      std::map<std::pair<std::string, std::string>, std::map<std::string, Evidence>>;
  // Removes what `collector` wrote to a slot / writes to a slot, merging a domain key that
  // another source gives too; `settle` recomputes a shared slot. mu_ held.
  void drop(const std::string& collector, const std::string& system, const std::string& key);
  void add(const std::string& collector, Evidence e);
  void settle(std::map<std::string, Evidence>& sys, SharedSlots::iterator sh);

  // What of a slot's visible evidence can change a score (Changes), as a fingerprint; the
  // same constant for every absent slot of `key`. `system`: the system's slots, or null if
  // it has none. mu_ held.
  uint64_t slotPrint(const std::map<std::string, Evidence>* system, const std::string& key,
                     const std::optional<TimePoint>& now) const;
  // A fingerprint of the sources that know `system` (they decide which defaults count). mu_ held.
  uint64_t knowersPrint(const std::string& system) const;
  // The fingerprint of one source's defaults. mu_ held.
  uint64_t defaultsPrint(const std::string& collector, const std::optional<TimePoint>& now) const;

  mutable std::mutex mu_;
  Changes changes_;                // since the last takeChanges()
  uint64_t epoch_ = 0;             // takeChanges() calls
  // visit() with mu_ held.
  void visitLocked(const std::string& system,
                   const std::function<void(const std::map<std::string, Evidence>&,
                                            const std::map<std::string, const Evidence*>&)>&
                       fn) const;
  std::set<std::string> timed_keys_;
  std::map<std::string, std::map<std::string, Evidence>> by_system_;
  // The (system, key) slots each collector wrote last, to replace them without a full scan.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> written_;
  // The sources whose last report had specific evidence of a system, by system.
  std::map<std::string, std::set<std::string>> known_by_;
  // Collectors that know the systems of another, by the other (setSystemsFrom).
  std::map<std::string, std::vector<std::string>> extended_by_;
  std::map<std::string, std::map<std::string, Evidence>> defaults_;  // by collector, key
  // Merged defaults per set of knowing sources with defaults (few distinct sets: systems are
  // mostly known by the same few sources); cleared whenever defaults change.
  struct MergedDefaults {
    std::map<std::string, const Evidence*> view;
    std::map<std::string, Evidence> owned;  // merges of a domain key several sources give
  };
  mutable std::map<std::vector<std::string>, MergedDefaults> merged_;
  SharedSlots shared_;
  mutable std::vector<std::string> scratch_;  // visit()'s knowing sources; mu_ held
};

}  // namespace opsm::scorer
