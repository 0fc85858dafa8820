#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "scorer/evidence.h"

namespace opsm::scorer {

// The vendor-neutral evidence layer (docs/evidence-catalog.md). Collectors report vendor keys
// (monitoring.prometheus.alerting_rules, monitoring.zabbix.triggers) and map them to domain keys
// (monitoring.alert_rules) that the shipped rules name, so that a system monitored by Zabbix can
// reach the levels a Prometheus-monitored one does. Where two sources give the same domain key
// for one system, the key's merge decides:
enum class Merge {
  kNewest,  // the most recently observed value
  kAny,     // bool: true when any source says true
  kAll,     // bool: true only when every source says true
  kMin,     // number: the smallest (ages, ratios of coverage: the weakest link)
  kMax,     // number: the largest (counts: the best-equipped source)
  kUnion,   // list: every element any source gives, sorted
};
const char* mergeName(Merge m);

struct DomainKeySpec {
  const char* key;  // two segments: <domain>.<name>
  ValueType type;
  Merge merge;
  const char* description;
};

// Every domain key, sorted by key.
const std::vector<DomainKeySpec>& domainKeys();
// The spec of a domain key; nullptr if `key` is not one.
const DomainKeySpec* findDomainKey(std::string_view key);

// Adds, for each piece of `evidence` whose key `domain_of` maps to a domain key, the same
// evidence under the domain key with Source::via naming the vendor key. A collector that
// reports a domain key itself keeps it; a vendor fact never overrides it.
void deriveDomainEvidence(const std::map<std::string, std::string>& domain_of,
                          std::vector<Evidence>* evidence);

// The evidence one system's domain key holds when several sources give it (all of the same
// key and system; at least one). Contributions that expired before the newest one was observed
// are left out unless all have. The result is the deciding contribution with the merged value,
// Source::merged naming every source and value, and an expiry of the evidence it rests on.
Evidence mergeEvidence(Merge merge, const std::vector<const Evidence*>& parts);

// " (prom via monitoring.prometheus.alerting_rules; max of prom 3, zbx 5)": where a piece of
// evidence came from, for explanations; empty for a vendor key reported as is.
std::string provenanceText(const Evidence& e);

}  // namespace opsm::scorer
