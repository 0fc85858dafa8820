#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "collectors/config_schema.h"
#include "common/duration.h"
#include "common/result.h"
#include "common/yaml_util.h"
#include "scorer/catalog.h"
#include "scorer/evidence.h"

namespace opsm::collectors {

// What a collector gets for one poll. A collector reports facts of the systems it sees and,
// where the absence of a system is itself evidence (no targets, no backups, no dashboards),
// facts of scorer::kAnySystem: the default for every system it says nothing specific about.
struct CollectContext {
  TimePoint now;                                   // wall-clock time of the poll
  std::chrono::steady_clock::time_point deadline;  // the poll must finish by then

  // Time left until the deadline, at least 1 ms so that a late call still fails fast.
  Duration remaining() const;
  // The bounds of YAML a source sends (default sizes, this poll's deadline).
  YamlLimits yamlLimits() const {
    YamlLimits limits;
    limits.deadline = deadline;
    return limits;
  }
};

// A source of facts. Instances are built by a CollectorFactory from validated config and
// may be called from a worker thread; one instance is never polled concurrently with itself.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual const std::string& name() const = 0;
  [[nodiscard]] virtual Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) = 0;
};

// Keys every collector entry may carry; the agent reads them, factories allow them.
inline constexpr std::string_view kCommonKeys[] = {"name", "type",         "interval",   "timeout",
                                                   "ttl",  "systems_from", "max_systems"};

struct CollectorConfig {
  std::string name;  // instance name, unique in the config
  std::string file;  // config file, for error messages
  YAML::Node node;   // the whole collector entry
};

// Owns the config schema of one collector type: validates and builds instances.
class CollectorFactory {
 public:
  virtual ~CollectorFactory() = default;
  virtual std::string type() const = 0;
  // The type's config keys (the common ones are the agent's): stated once, checked by
  // create() before build(), and the source of docs/collectors/<type>.md's key table.
  virtual ConfigSchema configSchema() const = 0;
  // Checks the entry against configSchema(), then builds an instance of it.
  [[nodiscard]] Result<std::unique_ptr<Collector>> create(const CollectorConfig& config) const;
  // Every evidence key instances of this type can report (docs/evidence-catalog.md).
  virtual std::vector<scorer::EvidenceKeySpec> evidenceKeys() const = 0;

 protected:
  // Builds an instance from an entry create() has checked; what the schema cannot say
  // (a regular expression that compiles, a JSON pointer) is checked here.
  [[nodiscard]] virtual Result<std::unique_ptr<Collector>> build(
      const ConfigReader& config) const = 0;
};

// One evidence key a collector type declares, for CollectorFactory::evidenceKeys().
struct KeyDoc {
  const char* key;  // without the type's prefix
  scorer::ValueType type;
  const char* description;
  // The domain key (scorer/domain.h) this vendor key maps to, value for value; nullptr if
  // none. A collector that computes a domain key itself declares it with an empty prefix.
  const char* domain = nullptr;
};
std::vector<scorer::EvidenceKeySpec> describeKeys(const std::string& prefix,
                                                  const std::string& producer,
                                                  std::initializer_list<KeyDoc> keys);

// The attributes of a system's profile (evidence system.<attribute>, docs/configuration.md)
// that the config and CMDB collectors declare; runtime is one of kRuntimes.
inline constexpr std::string_view kProfileAttributes[] = {"frontend", "steady_state", "has_cache",
                                                          "has_database", "runtime"};
inline constexpr std::string_view kRuntimes[] = {"container", "vm", "bare_metal"};
bool isProfileAttribute(std::string_view attribute);
bool isRuntime(std::string_view value);
// "'x' is not frontend, steady_state, has_cache, has_database or runtime"
std::string notAProfileAttribute(std::string_view attribute);
// The system.* keys a CMDB collector gives: each boolean attribute as `how(attribute)` says,
// runtime as `runtime_how`.
std::vector<scorer::EvidenceKeySpec> describeProfileKeys(
    const std::string& producer, const std::function<std::string(const std::string&)>& how,
    const std::string& runtime_how);

// Explicit registry of collector types: registerAll() adds every built-in factory.
class Registry {
 public:
  // Fails if a factory of the same type is already registered.
  Status add(std::unique_ptr<CollectorFactory> factory);
  const CollectorFactory* find(const std::string& type) const;
  std::vector<std::string> types() const;
  // The keys of every registered type plus the agent's own.
  Result<scorer::EvidenceCatalog> catalog() const;

 private:
  std::map<std::string, std::unique_ptr<CollectorFactory>> factories_;
};

// Registers every built-in collector type, in a fixed order.
Status registerAll(Registry& registry);

}  // namespace opsm::collectors
