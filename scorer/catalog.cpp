#include "scorer/catalog.h"

#include "scorer/domain.h"

namespace opsm::scorer {

EvidenceCatalog::EvidenceCatalog() {
  for (const auto& d : domainKeys()) {
    EvidenceKeySpec spec{d.key, d.type, "domain", d.description};
    spec.is_domain = true;
    spec.merge = mergeName(d.merge);
    keys_.emplace(d.key, std::move(spec));
  }
}

Status EvidenceCatalog::add(EvidenceKeySpec spec) {
  auto it = keys_.find(spec.key);
  if (it != keys_.end() && it->second.is_domain) {
    if (it->second.type != spec.type) {
      return makeError(ErrorCode::kInternal, spec.producer + " reports domain key " + spec.key +
                                                 " as a " + valueTypeName(spec.type) + ", not a " +
                                                 valueTypeName(it->second.type));
    }
    it->second.producers.push_back(spec.producer);
    return Status::success();
  }
  if (!spec.domain.empty()) {
    auto d = keys_.find(spec.domain);
    if (d == keys_.end() || !d->second.is_domain) {
      return makeError(ErrorCode::kInternal, spec.key + " maps to " + spec.domain +
                                                 ", which is not a domain key");
    }
    if (d->second.type != spec.type) {
      return makeError(ErrorCode::kInternal, spec.key + " (a " + valueTypeName(spec.type) +
                                                 ") maps to domain key " + spec.domain + " (a " +
                                                 valueTypeName(d->second.type) + ")");
    }
    if (it == keys_.end()) d->second.producers.push_back(spec.producer + " via " + spec.key);
  }
  if (it != keys_.end()) {
    if (it->second.type == spec.type && it->second.producer == spec.producer) return {};
    return makeError(ErrorCode::kInternal, "evidence key " + spec.key + " is declared by both " +
                                               it->second.producer + " and " + spec.producer);
  }
  std::string key = spec.key;
  keys_.emplace(std::move(key), std::move(spec));
  return Status::success();
}

const EvidenceKeySpec* EvidenceCatalog::find(const std::string& key) const {
  auto it = keys_.find(key);
  if (it != keys_.end()) return &it->second;
  for (const auto& [k, spec] : keys_) {
    if (spec.isNamespace() && key.size() > k.size() - 1 &&
        key.compare(0, k.size() - 1, k, 0, k.size() - 1) == 0) {
      return &spec;
    }
  }
  return nullptr;
}

std::vector<EvidenceKeySpec> EvidenceCatalog::all() const {
  std::vector<EvidenceKeySpec> out;
  for (const auto& [_, spec] : keys_) out.push_back(spec);
  return out;
}

std::vector<EvidenceKeySpec> agentEvidenceKeys() {
  // The system profile as the config's `systems:` entries declare it (domain keys: a CMDB may
  // give them too).
  std::vector<EvidenceKeySpec> out;
  for (const char* key : {"system.frontend", "system.steady_state", "system.has_cache",
                          "system.has_database"}) {
    out.push_back({key, ValueType::kBool, "agent (config)", ""});
  }
  out.push_back({"system.runtime", ValueType::kString, "agent (config)", ""});
  return out;
}

bool isAttestationKey(const std::string& key) { return key.rfind("attestation.", 0) == 0; }

}  // namespace opsm::scorer
