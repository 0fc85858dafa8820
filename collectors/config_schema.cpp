#include "collectors/config_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <stdexcept>

#include "collectors/collector.h"
#include "common/secrets.h"
#include "common/yaml_util.h"

namespace opsm::collectors {

namespace {

std::string formatNumber(double v) {
  std::ostringstream out;
  out << std::setprecision(15) << v;
  return out.str();
}

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

bool isSet(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

// The names a key takes in an entry: a secret's two, any other key's own.
std::vector<std::string> spellings(const ConfigKey& k) {
  if (k.type == ConfigType::kSecret) return {k.name + "_file", k.name + "_env"};
  return {k.name};
}

bool keySet(const YAML::Node& map, const ConfigKey& k) {
  for (const auto& s : spellings(k)) {
    if (isSet(map[s])) return true;
  }
  return false;
}

std::string article(std::string_view word) {
  return !word.empty() && std::string_view("aeiou").find(word.front()) != std::string_view::npos
             ? "an "
             : "a ";
}

// Checks one set value against its key; `field` is its dotted path for errors.
Status checkValue(const std::string& file, const YAML::Node& n, const ConfigKey& k,
                  const std::string& field);

Status checkMap(const std::string& file, const YAML::Node& map, const std::vector<ConfigKey>& keys,
                const std::string& prefix, const std::string& unknown_what,
                const std::vector<std::string>& also_allowed) {
  std::vector<std::string> allowed = also_allowed;
  for (const auto& k : keys) {
    for (const auto& s : spellings(k)) allowed.push_back(s);
  }
  for (const auto& kv : map) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    return fieldError(file, kv.first, prefix + key,
                      unknown_what + " (allowed: " + joined(allowed, ", ") + ")");
  }
  for (const auto& k : keys) {
    const std::string field = prefix + k.name;
    if (k.type == ConfigType::kSecret) {
      const YAML::Node f = map[k.name + "_file"];
      const YAML::Node e = map[k.name + "_env"];
      for (const auto& [node, suffix] : {std::pair{f, "_file"}, std::pair{e, "_env"}}) {
        if (isSet(node) && (!node.IsScalar() || node.Scalar().empty())) {
          return fieldError(file, node, field + suffix,
                            std::string(suffix) == "_file" ? "must be a file path"
                                                           : "must be an environment variable name");
        }
      }
      if (isSet(f) && isSet(e)) {
        return fieldError(file, f, field + "_file",
                          "set either " + k.name + "_file or " + k.name + "_env, not both");
      }
      if (k.required && !isSet(f) && !isSet(e)) {
        return fieldError(file, map, field + "_file",
                          "set " + k.name + "_file or " + k.name + "_env");
      }
      continue;
    }
    const YAML::Node n = map[k.name];
    if (!isSet(n)) {
      if (k.required) return fieldError(file, map, field, "is required");
      continue;
    }
    if (auto st = checkValue(file, n, k, field); !st) return st;
  }
  return Status::success();
}

Status checkValue(const std::string& file, const YAML::Node& n, const ConfigKey& k,
                  const std::string& field) {
  switch (k.type) {
    case ConfigType::kString:
    case ConfigType::kUrl: {
      if (!n.IsScalar()) return fieldError(file, n, field, "must be a string");
      const std::string& v = n.Scalar();
      if (k.type == ConfigType::kUrl && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
        return fieldError(file, n, field, "must be an http:// or https:// URL");
      }
      if (k.non_empty && v.empty()) return fieldError(file, n, field, "must not be empty");
      if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), v) == k.choices.end()) {
        return fieldError(file, n, field, "must be one of " + joined(k.choices, ", "));
      }
      return Status::success();
    }
    case ConfigType::kBool: {
      bool b = false;
      if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
        return fieldError(file, n, field, "must be true or false");
      }
      return Status::success();
    }
    case ConfigType::kNumber:
    case ConfigType::kInteger: {
      double v = 0;
      if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
        return fieldError(file, n, field, "must be a number");
      }
      if (k.type == ConfigType::kInteger && v != std::floor(v)) {
        return fieldError(file, n, field, "must be a whole number");
      }
      if ((k.min && v < *k.min) || (k.max && v > *k.max)) {
        return fieldError(file, n, field,
                          "must be between " + formatNumber(k.min.value_or(-HUGE_VAL)) + " and " +
                              formatNumber(k.max.value_or(HUGE_VAL)));
      }
      return Status::success();
    }
    case ConfigType::kDuration: {
      if (!n.IsScalar()) return fieldError(file, n, field, "must be a duration like \"30s\"");
      auto d = parseDuration(n.Scalar());
      if (!d) return fieldError(file, n, field, d.error().message);
      if (k.positive && d->count() <= 0) return fieldError(file, n, field, "must be positive");
      return Status::success();
    }
    case ConfigType::kStringList:
      if (!n.IsSequence()) return fieldError(file, n, field, "must be a list of strings");
      for (const auto& item : n) {
        if (!item.IsScalar()) return fieldError(file, item, field, "must be a list of strings");
      }
      [[fallthrough]];
    case ConfigType::kList:
      if (!n.IsSequence()) return fieldError(file, n, field, "must be a list");
      if (k.non_empty && n.size() == 0) return fieldError(file, n, field, "must not be empty");
      return Status::success();
    case ConfigType::kMap:
      if (!n.IsMap()) return fieldError(file, n, field, "must be a mapping");
      if (k.non_empty && n.size() == 0) return fieldError(file, n, field, "must not be empty");
      if (!k.fields.empty()) {
        return checkMap(file, n, k.fields, field + ".", "unknown key in " + field, {});
      }
      return Status::success();
    case ConfigType::kSecret:
      break;  // checked by checkMap
  }
  return Status::success();
}

// The value a key's default stands for: a list of the comma-separated items for a list of
// strings, a scalar otherwise; undefined without a default.
YAML::Node defaultNode(const ConfigKey& k) {
  if (k.default_text.empty()) return YAML::Node(YAML::NodeType::Undefined);
  if (k.type != ConfigType::kStringList) return YAML::Node(k.default_text);
  YAML::Node n(YAML::NodeType::Sequence);
  std::stringstream in(k.default_text);
  for (std::string item; std::getline(in, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    n.push_back(item);
  }
  return n;
}

// A default that its own key would reject is a programming error, found at registration.
void checkDefault(const std::string& type, const ConfigKey& k) {
  for (const auto& f : k.fields) checkDefault(type, f);
  if (k.default_text.empty()) return;
  if (k.required) {
    throw std::logic_error("collector " + type + ": key " + k.name + " is required and has a default");
  }
  if (k.type == ConfigType::kSecret || k.type == ConfigType::kMap || k.type == ConfigType::kList) {
    throw std::logic_error("collector " + type + ": key " + k.name + " cannot have a default");
  }
  if (auto st = checkValue("schema", defaultNode(k), k, k.name); !st) {
    throw std::logic_error("collector " + type + ": default of " + k.name + ": " +
                           st.error().message);
  }
}

std::string escapeCell(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

void markdownRows(std::ostringstream& out, const std::vector<ConfigKey>& keys,
                  const std::string& prefix) {
  for (const auto& k : keys) {
    std::string names;
    for (const auto& s : spellings(k)) names += (names.empty() ? "`" : ", `") + prefix + s + "`";
    std::string type(configTypeName(k.type));
    if (!k.choices.empty()) type = joined(k.choices, " \\| ");
    if ((k.type == ConfigType::kNumber || k.type == ConfigType::kInteger) && (k.min || k.max)) {
      type += " " + formatNumber(k.min.value_or(-HUGE_VAL)) + "–" +
              formatNumber(k.max.value_or(HUGE_VAL));
    }
    std::string def = k.required ? "required"
                      : k.default_text.empty() ? ""
                      : "`" + k.default_text + "`";
    out << "| " << names << " | " << type << " | " << def << " | " << escapeCell(k.description)
        << " |\n";
    if (k.type == ConfigType::kMap) markdownRows(out, k.fields, prefix + k.name + ".");
  }
}

}  // namespace

std::string_view configTypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString: return "string";
    case ConfigType::kUrl: return "URL";
    case ConfigType::kBool: return "bool";
    case ConfigType::kNumber: return "number";
    case ConfigType::kInteger: return "integer";
    case ConfigType::kDuration: return "duration";
    case ConfigType::kStringList: return "list of strings";
    case ConfigType::kList: return "list";
    case ConfigType::kMap: return "mapping";
    case ConfigType::kSecret: return "secret (file or environment variable)";
  }
  return "?";
}

ConfigKey ConfigKey::defaults(std::string text) && {
  default_text = std::move(text);
  return std::move(*this);
}
ConfigKey ConfigKey::isRequired() && {
  required = true;
  return std::move(*this);
}
ConfigKey ConfigKey::nonEmpty() && {
  non_empty = true;
  return std::move(*this);
}
ConfigKey ConfigKey::isPositive() && {
  positive = true;
  return std::move(*this);
}
ConfigKey ConfigKey::range(double lo, double hi) && {
  min = lo;
  max = hi;
  return std::move(*this);
}
ConfigKey ConfigKey::oneOf(std::vector<std::string> values) && {
  choices = std::move(values);
  return std::move(*this);
}
ConfigKey ConfigKey::withFields(std::vector<ConfigKey> keys) && {
  fields = std::move(keys);
  return std::move(*this);
}

namespace {
ConfigKey makeKey(std::string name, ConfigType type, std::string description) {
  ConfigKey k;
  k.name = std::move(name);
  k.type = type;
  k.description = std::move(description);
  return k;
}
}  // namespace

ConfigKey stringKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kString, std::move(description));
}
ConfigKey urlKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kUrl, std::move(description));
}
ConfigKey boolKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kBool, std::move(description));
}
ConfigKey numberKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kNumber, std::move(description));
}
ConfigKey integerKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kInteger, std::move(description));
}
ConfigKey durationKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kDuration, std::move(description));
}
ConfigKey stringListKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kStringList, std::move(description));
}
ConfigKey listKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kList, std::move(description));
}
ConfigKey mapKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kMap, std::move(description));
}
ConfigKey secretKey(std::string name, std::string description) {
  return makeKey(std::move(name), ConfigType::kSecret, std::move(description));
}

ConfigKey tlsKey() {
  return mapKey("tls", "TLS to the server; the system's CA store and verification by default.")
      .withFields({
          stringKey("ca_file", "CA certificates (PEM) to verify the server with."),
          boolKey("insecure_skip_verify", "Do not verify the server's certificate (never in production).")
              .defaults("false"),
      });
}

std::vector<ConfigKey> httpKeys() {
  return {
      secretKey("bearer_token", "Sent as `Authorization: Bearer <token>`."),
      mapKey("basic_auth", "HTTP basic authentication (not with bearer_token).")
          .withFields({
              stringKey("username", "The user name.").isRequired().nonEmpty(),
              secretKey("password", "The password.").isRequired(),
          }),
      tlsKey(),
  };
}

ConfigSchema::ConfigSchema(std::string type, std::vector<ConfigKey> keys,
                           std::vector<ConfigConstraint> constraints)
    : type_(std::move(type)), keys_(std::move(keys)), constraints_(std::move(constraints)) {
  std::set<std::string> names(std::begin(kCommonKeys), std::end(kCommonKeys));
  for (const auto& k : keys_) {
    for (const auto& s : spellings(k)) {
      if (!names.insert(s).second) {
        throw std::logic_error("collector " + type_ + ": config key " + s + " declared twice");
      }
    }
    checkDefault(type_, k);
  }
  for (const auto& c : constraints_) {
    for (const auto& name : c.keys) {
      if (!find(name)) {
        throw std::logic_error("collector " + type_ + ": constraint names unknown key " + name);
      }
    }
  }
}

const ConfigKey* ConfigSchema::find(std::string_view name) const {
  for (const auto& k : keys_) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

Status ConfigSchema::check(const std::string& file, const YAML::Node& entry) const {
  if (!entry.IsMap()) {
    return makeError(ErrorCode::kInvalidArgument,
                     where(file, entry) + ": " + article(type_) + type_ +
                         " collector must be a mapping");
  }
  std::vector<std::string> common(std::begin(kCommonKeys), std::end(kCommonKeys));
  if (auto st = checkMap(file, entry, keys_, "",
                         "unknown key for " + article(type_) + type_ + " collector", common);
      !st) {
    return st;
  }
  for (const auto& c : constraints_) {
    size_t set = 0;
    for (const auto& name : c.keys) set += keySet(entry, *find(name)) ? 1 : 0;
    if (set == 0 || (c.exactly_one && set > 1)) {
      const std::string& first = c.keys.front();
      return fieldError(file, isSet(entry[first]) ? entry[first] : entry, first, c.message);
    }
  }
  return Status::success();
}

std::string ConfigSchema::markdown() const {
  std::ostringstream out;
  out << "## Configuration keys\n\n"
      << "Generated by `opsmaturity collectors " << type_ << "` from the collector's schema. The "
      << "keys every collector has (`name`, `type`, `interval`, `timeout`, `ttl`, "
      << "`systems_from`) are in [configuration.md](../configuration.md); a key not listed here "
      << "is an error.\n\n"
      << "| Key | Type | Default | Meaning |\n| --- | --- | --- | --- |\n";
  markdownRows(out, keys_, "");
  for (const auto& c : constraints_) {
    std::string names;
    for (const auto& n : c.keys) names += (names.empty() ? "`" : ", `") + n + "`";
    out << "\n" << (c.exactly_one ? "Exactly one" : "At least one") << " of " << names
        << " is set.\n";
  }
  return out.str();
}

ConfigReader::ConfigReader(const ConfigSchema& schema, std::string name, std::string file,
                           YAML::Node entry)
    : ConfigReader(schema.type(), schema.keys(), std::move(name), std::move(file),
                   std::move(entry), "") {}

ConfigReader::ConfigReader(std::string type, const std::vector<ConfigKey>& keys,
                           std::string name, std::string file, YAML::Node entry,
                           std::string prefix)
    : type_(std::move(type)),
      keys_(&keys),
      name_(std::move(name)),
      file_(std::move(file)),
      entry_(std::move(entry)),
      prefix_(std::move(prefix)) {}

const ConfigKey& ConfigReader::key(std::string_view name,
                                   std::initializer_list<ConfigType> types) const {
  for (const auto& k : *keys_) {
    if (k.name != name) continue;
    if (types.size() == 0 || std::find(types.begin(), types.end(), k.type) != types.end()) {
      return k;
    }
    break;
  }
  throw std::logic_error("collector " + type_ + " reads config key " + prefix_ +
                         std::string(name) + " that its schema does not declare so");
}

bool ConfigReader::has(std::string_view name) const { return keySet(entry_, key(name, {})); }

bool ConfigReader::declares(std::string_view name) const {
  return std::any_of(keys_->begin(), keys_->end(), [&](const ConfigKey& k) { return k.name == name; });
}

ConfigReader ConfigReader::section(std::string_view name) const {
  const ConfigKey& k = key(name, {ConfigType::kMap});
  YAML::Node n = entry_[k.name];
  return ConfigReader(type_, k.fields, name_, file_, isSet(n) ? n : YAML::Node(YAML::NodeType::Map),
                      prefix_ + k.name + ".");
}

YAML::Node ConfigReader::valueOf(const ConfigKey& k) const {
  const YAML::Node n = entry_[k.name];
  return isSet(n) ? n : defaultNode(k);
}

std::string ConfigReader::string(std::string_view name) const {
  const YAML::Node n = valueOf(key(name, {ConfigType::kString, ConfigType::kUrl}));
  return n.IsDefined() ? n.Scalar() : std::string();
}

double ConfigReader::number(std::string_view name) const {
  const YAML::Node n = valueOf(key(name, {ConfigType::kNumber, ConfigType::kInteger}));
  return n.IsDefined() ? n.as<double>() : 0;
}

int ConfigReader::integer(std::string_view name) const {
  key(name, {ConfigType::kInteger});
  return static_cast<int>(number(name));
}

bool ConfigReader::flag(std::string_view name) const {
  const YAML::Node n = valueOf(key(name, {ConfigType::kBool}));
  return n.IsDefined() && n.as<bool>();
}

Duration ConfigReader::duration(std::string_view name) const {
  const YAML::Node n = valueOf(key(name, {ConfigType::kDuration}));
  if (!n.IsDefined()) return Duration::zero();
  auto d = parseDuration(n.Scalar());  // checked: the entry's by check(), a default at registration
  return d ? *d : Duration::zero();
}

std::vector<std::string> ConfigReader::strings(std::string_view name) const {
  std::vector<std::string> out;
  const YAML::Node n = valueOf(key(name, {ConfigType::kStringList}));
  if (n.IsDefined()) {
    for (const auto& item : n) out.push_back(item.Scalar());
  }
  return out;
}

YAML::Node ConfigReader::node(std::string_view name) const {
  const ConfigKey& k = key(name, {ConfigType::kList, ConfigType::kStringList, ConfigType::kMap});
  const YAML::Node n = entry_[k.name];
  return isSet(n) ? n : YAML::Node(YAML::NodeType::Undefined);
}

Result<std::string> ConfigReader::secret(std::string_view name) const {
  const ConfigKey& k = key(name, {ConfigType::kSecret});
  bool present = false;
  return readSecretField(file_, entry_, k.name, &present);
}

std::string ConfigReader::path(std::string_view name) const {
  std::string p = string(name);
  if (p.empty()) return p;
  std::filesystem::path fp(p);
  if (fp.is_relative()) fp = std::filesystem::path(file_).parent_path() / fp;
  return fp.string();
}

Error ConfigReader::error(std::string_view name, std::string_view message) const {
  const YAML::Node n = entry_[std::string(name)];
  return fieldError(file_, n.IsDefined() ? n : entry_, prefix_ + std::string(name), message);
}

Result<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, "cannot read secret file " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return makeError(ErrorCode::kInvalidArgument, "secret file " + path + " is empty");
  registerSecret(s);
  return s;
}

Result<std::string> readSecretEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) {
    return makeError(ErrorCode::kInvalidArgument,
                     "environment variable " + name + " is not set or empty");
  }
  registerSecret(v);
  return std::string(v);
}

Result<std::string> readSecretField(const std::string& file, const YAML::Node& map,
                                    const std::string& prefix, bool* present) {
  auto f = readString(file, map, prefix + "_file");
  if (!f) return f.error();
  auto e = readString(file, map, prefix + "_env");
  if (!e) return e.error();
  *present = !f->empty() || !e->empty();
  if (!f->empty() && !e->empty()) {
    return fieldError(file, map[prefix + "_file"], prefix + "_file",
                      "set either " + prefix + "_file or " + prefix + "_env, not both");
  }
  if (!f->empty()) {
    auto s = readSecretFile(*f);
    if (!s) return fieldError(file, map[prefix + "_file"], prefix + "_file", s.error().message);
    return s;
  }
  if (!e->empty()) {
    auto s = readSecretEnv(*e);
    if (!s) return fieldError(file, map[prefix + "_env"], prefix + "_env", s.error().message);
    return s;
  }
  return std::string();
}

}  // namespace opsm::collectors
