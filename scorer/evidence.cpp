#include "scorer/evidence.h"

#include <cmath>
#include <sstream>

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

std::vector<Evidence> toEvidence(const std::string& collector, std::vector<Fact> facts,
                                 TimePoint now, Duration ttl) {
  std::vector<Evidence> out;
  out.reserve(facts.size());
  for (auto& f : facts) {
    Evidence e;
    e.key = std::move(f.key);
    e.system = std::move(f.system);
    e.value = std::move(f.value);
    e.observed_at = now;
    e.expires_at = now + ttl;
    e.source = Source{collector, std::move(f.locator)};
    out.push_back(std::move(e));
  }
  return out;
}

void EvidenceStore::replaceFromCollector(const std::string& collector,
                                         std::vector<Evidence> evidence) {
  std::lock_guard lock(mu_);
  for (auto sys = by_system_.begin(); sys != by_system_.end();) {
    std::erase_if(sys->second, [&](const auto& kv) { return kv.second.source.collector == collector; });
    sys = sys->second.empty() ? by_system_.erase(sys) : std::next(sys);
  }
  for (auto& e : evidence) {
    auto& slot = by_system_[e.system][e.key];
    slot = std::move(e);
  }
}

void EvidenceStore::put(Evidence evidence) {
  std::lock_guard lock(mu_);
  std::string system = evidence.system, key = evidence.key;
  by_system_[system][key] = std::move(evidence);
}

std::optional<Evidence> EvidenceStore::find(const std::string& system,
                                            const std::string& key) const {
  std::lock_guard lock(mu_);
  auto s = by_system_.find(system);
  if (s == by_system_.end()) return std::nullopt;
  auto k = s->second.find(key);
  if (k == s->second.end()) return std::nullopt;
  return k->second;
}

std::vector<std::string> EvidenceStore::systems() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, _] : by_system_) out.push_back(name);
  return out;
}

std::vector<std::string> EvidenceStore::systemsNotOnlyFrom(const std::string& collector) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, evidence] : by_system_) {
    for (const auto& [_, e] : evidence) {
      if (e.source.collector != collector) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

std::vector<Evidence> EvidenceStore::forSystem(const std::string& system) const {
  std::vector<Evidence> out;
  for (auto& [_, e] : snapshot(system)) out.push_back(e);
  return out;
}

std::map<std::string, Evidence> EvidenceStore::snapshot(const std::string& system) const {
  std::lock_guard lock(mu_);
  auto s = by_system_.find(system);
  if (s == by_system_.end()) return {};
  return s->second;
}

}  // namespace opsm::scorer
