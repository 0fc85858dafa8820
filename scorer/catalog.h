#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "scorer/evidence.h"

namespace opsm::scorer {

// One evidence key a producer (a collector type, or the agent itself) can report.
struct EvidenceKeySpec {
  std::string key;  // monitoring.prometheus.targets_up_ratio
  ValueType type = ValueType::kNumber;
  std::string producer;     // collector type, e.g. "prometheus"; "agent" for built-in keys
  std::string description;  // how it is computed
  // A vendor key that its collector maps to a domain key (scorer/domain.h): that domain key.
  std::string domain{};
  // A domain key: its merge, and its producers ("prometheus via
  // monitoring.prometheus.alerting_rules", or a collector type that reports it itself).
  bool is_domain = false;
  std::string merge{};
  std::vector<std::string> producers{};
  // A key ending in ".*" declares a namespace (plugin.*): any key under it, of any type.
  bool isNamespace() const { return key.size() > 2 && key.compare(key.size() - 2, 2, ".*") == 0; }
};

// Every evidence key rules may reference, with its type and producer.
class EvidenceCatalog {
 public:
  // Adds every domain key (scorer/domain.h), without producers yet.
  EvidenceCatalog();
  // Fails if the key is already registered by another producer or with another type, or maps
  // to a domain key that does not exist or has another type. A producer declaring a domain
  // key itself becomes one of its producers.
  Status add(EvidenceKeySpec spec);
  // The spec of `key`, or of the namespace (plugin.*) it falls under; nullptr if none.
  const EvidenceKeySpec* find(const std::string& key) const;
  std::vector<EvidenceKeySpec> all() const;  // sorted by key

 private:
  std::map<std::string, EvidenceKeySpec> keys_;
};

// Keys the agent itself produces (system attributes declared in the config).
std::vector<EvidenceKeySpec> agentEvidenceKeys();

// Attestations are stored as evidence "attestation.<criterion id>"; rules reach them through
// `attestation:` criteria, not through conditions.
bool isAttestationKey(const std::string& key);

}  // namespace opsm::scorer
