#include "collectors/collector.h"

#include <algorithm>

namespace opsm::collectors {

Result<std::unique_ptr<Collector>> CollectorFactory::create(const CollectorConfig& config) const {
  const ConfigSchema schema = configSchema();
  if (auto st = schema.check(config.file, config.node); !st) return st.error();
  return build(ConfigReader(schema, config.name, config.file, config.node));
}

Duration CollectContext::remaining() const {
  auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
  return std::max(left, Duration(1));
}

std::vector<scorer::EvidenceKeySpec> describeKeys(const std::string& prefix,
                                                  const std::string& producer,
                                                  std::initializer_list<KeyDoc> keys) {
  std::vector<scorer::EvidenceKeySpec> out;
  for (const auto& k : keys) {
    out.push_back({prefix + k.key, k.type, producer, k.description});
    if (k.domain) out.back().domain = k.domain;
  }
  return out;
}

bool isProfileAttribute(std::string_view attribute) {
  return std::find(std::begin(kProfileAttributes), std::end(kProfileAttributes), attribute) !=
         std::end(kProfileAttributes);
}

bool isRuntime(std::string_view value) {
  return std::find(std::begin(kRuntimes), std::end(kRuntimes), value) != std::end(kRuntimes);
}

std::string notAProfileAttribute(std::string_view attribute) {
  return "'" + std::string(attribute) +
         "' is not frontend, steady_state, has_cache, has_database or runtime";
}

std::vector<scorer::EvidenceKeySpec> describeProfileKeys(
    const std::string& producer, const std::function<std::string(const std::string&)>& how,
    const std::string& runtime_how) {
  std::vector<scorer::EvidenceKeySpec> out;
  for (auto attribute : kProfileAttributes) {
    std::string a(attribute);
    if (a == "runtime") {
      out.push_back({"system.runtime", scorer::ValueType::kString, producer, runtime_how});
    } else {
      out.push_back({"system." + a, scorer::ValueType::kBool, producer, how(a)});
    }
  }
  return out;
}

Status Registry::add(std::unique_ptr<CollectorFactory> factory) {
  std::string type = factory->type();
  if (factories_.count(type)) {
    return makeError(ErrorCode::kInternal, "collector type '" + type + "' registered twice");
  }
  factories_.emplace(type, std::move(factory));
  return Status::success();
}

const CollectorFactory* Registry::find(const std::string& type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Registry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, _] : factories_) out.push_back(type);
  return out;
}

Result<scorer::EvidenceCatalog> Registry::catalog() const {
  scorer::EvidenceCatalog catalog;
  for (auto& spec : scorer::agentEvidenceKeys()) {
    if (auto st = catalog.add(std::move(spec)); !st) return st.error();
  }
  for (const auto& [type, factory] : factories_) {
    for (auto& spec : factory->evidenceKeys()) {
      spec.producer = type;
      if (auto st = catalog.add(std::move(spec)); !st) return st.error();
    }
  }
  return catalog;
}

}  // namespace opsm::collectors
