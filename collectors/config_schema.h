#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/duration.h"
#include "common/result.h"

namespace opsm::collectors {

// The config schema of a collector type, stated once by its factory: every key with its type,
// default, whether it is required or a secret, and its meaning. One validator
// (ConfigSchema::check) checks every collector entry against it before the factory builds an
// instance, the factory reads the checked values through ConfigReader, and the key tables of
// docs/collectors/<type>.md are generated from it (`opsmaturity collectors config TYPE`,
// compared by a test).

enum class ConfigType {
  kString,      // a scalar
  kUrl,         // an http:// or https:// URL
  kBool,        // true or false
  kNumber,      // a number (range() bounds it)
  kInteger,     // a whole number (range() bounds it)
  kDuration,    // "30s", "5m", "7d"
  kStringList,  // a list of scalars
  kList,        // a list the factory reads further
  kMap,         // a mapping: of fixed keys when fields() are given, else read by the factory
  kSecret,      // <name>_file or <name>_env: the secret itself is never in the config
};

// "string", "URL", "duration", ... as the docs show it.
std::string_view configTypeName(ConfigType type);

// One key of a collector entry, built with the helpers below:
//   stringKey("system_label", "Label naming the system.").defaults("system")
//   integerKey("page_size", "Items per page.").defaults("100").range(1, 1000)
//   secretKey("token", "API token.").required()
struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::kString;
  std::string description;
  std::string default_text;  // the default, parsed as the type (empty: none)
  bool required = false;
  bool non_empty = false;  // a string or list that, when set, must not be empty
  bool positive = false;   // a duration that must be above zero
  std::optional<double> min, max;
  std::vector<std::string> choices;  // a string that must be one of these
  std::vector<ConfigKey> fields;     // the keys of a kMap of fixed keys

  ConfigKey defaults(std::string text) &&;
  ConfigKey isRequired() &&;
  ConfigKey nonEmpty() &&;
  ConfigKey isPositive() &&;
  ConfigKey range(double lo, double hi) &&;
  ConfigKey oneOf(std::vector<std::string> values) &&;
  ConfigKey withFields(std::vector<ConfigKey> keys) &&;
};

ConfigKey stringKey(std::string name, std::string description);
ConfigKey urlKey(std::string name, std::string description);
ConfigKey boolKey(std::string name, std::string description);
ConfigKey numberKey(std::string name, std::string description);
ConfigKey integerKey(std::string name, std::string description);
ConfigKey durationKey(std::string name, std::string description);
ConfigKey stringListKey(std::string name, std::string description);
ConfigKey listKey(std::string name, std::string description);
ConfigKey mapKey(std::string name, std::string description);
ConfigKey secretKey(std::string name, std::string description);

// The keys parseHttpOptions() reads: bearer_token (secret), basic_auth, tls.
std::vector<ConfigKey> httpKeys();
// Only the tls key, for collectors with their own token scheme.
ConfigKey tlsKey();

// A constraint between keys: exactly one, or at least one, of `keys` is set.
struct ConfigConstraint {
  std::vector<std::string> keys;
  bool exactly_one = true;
  std::string message;  // the error, reported on the first key
};

class ConfigReader;

class ConfigSchema {
 public:
  // `keys` are the type's own; the keys every entry has (kCommonKeys) are the agent's.
  ConfigSchema(std::string type, std::vector<ConfigKey> keys,
               std::vector<ConfigConstraint> constraints = {});

  const std::string& type() const { return type_; }
  const std::vector<ConfigKey>& keys() const { return keys_; }
  const std::vector<ConfigConstraint>& constraints() const { return constraints_; }
  // Whether `name` is one of this schema's keys, at the top level.
  const ConfigKey* find(std::string_view name) const;

  // Checks a collector entry: no unknown key, every set key of its type, range and choices,
  // fixed-key maps recursively, secrets set one way, required keys set, constraints held.
  // Errors name the file, line and field.
  Status check(const std::string& file, const YAML::Node& entry) const;

  // The "Configuration keys" section of docs/collectors/<type>.md (Markdown): a table of the
  // keys and the constraints between them.
  std::string markdown() const;

 private:
  std::string type_;
  std::vector<ConfigKey> keys_;
  std::vector<ConfigConstraint> constraints_;
};

// The values of a checked collector entry, with the schema's defaults for keys not set. A
// key the schema does not have is a programming error (std::logic_error).
class ConfigReader {
 public:
  ConfigReader(const ConfigSchema& schema, std::string name, std::string file, YAML::Node entry);

  const std::string& name() const { return name_; }  // the collector instance's name
  const std::string& file() const { return file_; }
  const YAML::Node& entry() const { return entry_; }

  bool has(std::string_view key) const;  // set (and not null) in the entry
  bool declares(std::string_view key) const;  // the schema has this key
  std::string string(std::string_view key) const;
  double number(std::string_view key) const;
  int integer(std::string_view key) const;
  bool flag(std::string_view key) const;
  Duration duration(std::string_view key) const;
  // A kStringList's items (the default's comma-separated items when not set).
  std::vector<std::string> strings(std::string_view key) const;
  // A list's or mapping's node (undefined when not set).
  YAML::Node node(std::string_view key) const;
  // The secret named by <key>_file or <key>_env, read now; "" when neither is set.
  Result<std::string> secret(std::string_view key) const;
  // A path the config names: relative to the config file's directory when relative.
  std::string path(std::string_view key) const;

  // A kMap of fixed keys, read like the entry (an empty mapping when not set); its errors
  // name the key as "<map>.<key>".
  ConfigReader section(std::string_view key) const;

  // An error at the key (its line, or the entry's when it is not set).
  Error error(std::string_view key, std::string_view message) const;

 private:
  ConfigReader(std::string type, const std::vector<ConfigKey>& keys, std::string name,
               std::string file, YAML::Node entry, std::string prefix);
  const ConfigKey& key(std::string_view name, std::initializer_list<ConfigType> types) const;
  // The entry's value of `k`, else its default's (undefined without one).
  YAML::Node valueOf(const ConfigKey& k) const;

  std::string type_;
  const std::vector<ConfigKey>* keys_;
  std::string name_;
  std::string file_;
  YAML::Node entry_;
  std::string prefix_;  // "" for the entry, "<map>." for a section
};

// Reads a secret from a file (trailing newline stripped) or an environment variable, and
// registers it for redaction. Errors name the file or variable, never the secret.
Result<std::string> readSecretFile(const std::string& path);
Result<std::string> readSecretEnv(const std::string& name);

// Reads the secret named by "<prefix>_file" or "<prefix>_env" (not both) in `map`; *present
// tells whether either was set (the result is "" when neither was).
Result<std::string> readSecretField(const std::string& file, const YAML::Node& map,
                                    const std::string& prefix, bool* present);

}  // namespace opsm::collectors
