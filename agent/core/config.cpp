#include "agent/core/config.h"

#include "collectors/common/http_config.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include <filesystem>
#include <regex>
#include <set>

#include "common/yaml_util.h"

namespace opsm::agent {

namespace fs = std::filesystem;

Result<std::pair<std::string, unsigned short>> parseListenAddress(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "listen address '" + text + "' must be host:port, e.g. 127.0.0.1:9817");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port_text = text.substr(colon + 1);
  if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5 ||
      std::stoi(port_text) > 65535) {
    return makeError(ErrorCode::kInvalidArgument,
                     "listen address '" + text + "': port must be a number 0..65535");
  }
  return std::make_pair(host, static_cast<unsigned short>(std::stoi(port_text)));
}

namespace {

Result<AgentConfig> loadConfigImpl(const std::string& path, const collectors::Registry& registry) {
  auto root = loadYamlFile(path);
  if (!root) return root.error();
  AgentConfig config;
  config.file = path;
  if (auto st = checkKeys(path, *root,
                          {"listen_address", "rules_dir", "score_interval", "regression_hysteresis", "shard",
                           "storage_path", "retention", "api_token_file", "api_token_env",
                           "evidence_ttl", "export_criteria_states", "export_item_dimensions",
                           "export_item_progress",
                           "max_concurrent_polls", "max_inflight_response_bytes",
                           "max_inflight_reply_bytes",
                           "scoring", "systems", "attestations_file", "tokens_file", "require_approval",
                           "document_check_interval", "document_roots", "document_hosts",
                           "read_requires_token", "allowed_hosts",
                           "stop_timeout",
                           "collectors"},
                          "agent config");
      !st) {
    return st.error();
  }

  auto listen = readString(path, *root, "listen_address", config.listen_address);
  if (!listen) return listen.error();
  if (auto la = parseListenAddress(*listen); !la) {
    return fieldError(path, (*root)["listen_address"], "listen_address", la.error().message);
  }
  config.listen_address = *listen;

  auto rules = readString(path, *root, "rules_dir");
  if (!rules) return rules.error();
  if (rules->empty()) {
    return fieldError(path, *root, "rules_dir", "is required (the rule pack directory)");
  }
  fs::path rules_path(*rules);
  if (rules_path.is_relative()) rules_path = fs::path(path).parent_path() / rules_path;
  config.rules_dir = rules_path.lexically_normal().string();

  auto stop_timeout = readDuration(path, *root, "stop_timeout", config.stop_timeout);
  if (!stop_timeout) return stop_timeout.error();
  if (stop_timeout->count() < 1000 || *stop_timeout > std::chrono::minutes(10)) {
    return fieldError(path, (*root)["stop_timeout"], "stop_timeout", "must be between 1s and 10m");
  }
  config.stop_timeout = *stop_timeout;

  auto score_interval = readDuration(path, *root, "score_interval", config.score_interval);
  if (!score_interval) return score_interval.error();
  if (score_interval->count() < 1000) {
    return fieldError(path, (*root)["score_interval"], "score_interval", "must be at least 1s");
  }
  config.score_interval = *score_interval;

  if (YAML::Node ttl = (*root)["evidence_ttl"]) {
    if (!ttl.IsMap()) {
      return fieldError(path, ttl, "evidence_ttl", "must map evidence keys or key prefixes to durations");
    }
    for (const auto& kv : ttl) {
      std::string key = kv.first.Scalar();
      auto d = kv.second.IsScalar() ? parseDuration(kv.second.Scalar())
                                    : Result<Duration>(makeError(ErrorCode::kInvalidArgument, "not a duration"));
      if (!d) return fieldError(path, kv.second, "evidence_ttl." + key, d.error().message);
      if (d->count() < 1000) {
        return fieldError(path, kv.second, "evidence_ttl." + key, "must be at least 1s");
      }
      config.evidence_ttl.emplace_back(key, *d);
    }
    // Longest prefix first, so the first match is the most specific.
    std::sort(config.evidence_ttl.begin(), config.evidence_ttl.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }

  auto states = readBool(path, *root, "export_criteria_states", config.export_criteria_states);
  if (!states) return states.error();
  config.export_criteria_states = *states;
  auto dims = readBool(path, *root, "export_item_dimensions", config.export_item_dimensions);
  if (!dims) return dims.error();
  config.export_item_dimensions = *dims;
  auto progress = readBool(path, *root, "export_item_progress", config.export_item_progress);
  if (!progress) return progress.error();
  config.export_item_progress = *progress;

  bool has_token = false;
  auto token = collectors::readSecretField(path, *root, "api_token", &has_token);
  if (!token) return token.error();
  config.api_token = *token;

  auto storage = readString(path, *root, "storage_path");
  if (!storage) return storage.error();
  if (!storage->empty()) {
    fs::path p(*storage);
    if (p.is_relative()) p = fs::path(path).parent_path() / p;
    config.storage_path = p.lexically_normal().string();
  }
  auto retention = readDuration(path, *root, "retention", config.retention);
  if (!retention) return retention.error();
  if (retention->count() < 3600 * 1000) {
    return fieldError(path, (*root)["retention"], "retention", "must be at least 1h");
  }
  config.retention = *retention;

  auto shard = readString(path, *root, "shard", "0/1");
  if (!shard) return shard.error();
  auto parsed_shard = parseShard(*shard);
  if (!parsed_shard) {
    return fieldError(path, (*root)["shard"], "shard", parsed_shard.error().message);
  }
  config.shard = *parsed_shard;

  auto hysteresis = readNumber(path, *root, "regression_hysteresis", config.regression_hysteresis);
  if (!hysteresis) return hysteresis.error();
  if (*hysteresis < 1 || *hysteresis > 1000 || *hysteresis != static_cast<int>(*hysteresis)) {
    return fieldError(path, (*root)["regression_hysteresis"], "regression_hysteresis",
                      "must be a whole number of scorings, 1 to 1000");
  }
  config.regression_hysteresis = static_cast<int>(*hysteresis);

  auto concurrency = readNumber(path, *root, "max_concurrent_polls", config.max_concurrent_polls);
  if (!concurrency) return concurrency.error();
  if (*concurrency < 1 || *concurrency > 256 || *concurrency != static_cast<int>(*concurrency)) {
    return fieldError(path, (*root)["max_concurrent_polls"], "max_concurrent_polls",
                      "must be a whole number of polls, 1 to 256");
  }
  config.max_concurrent_polls = static_cast<int>(*concurrency);

  // A memory budget in bytes: 1 MiB to 64 GiB (or 0 for none, where `zero_is_none`).
  auto readBudget = [&](const char* key, size_t* out, bool zero_is_none) -> Status {
    auto v = readNumber(path, *root, key, static_cast<double>(*out));
    if (!v) return v.error();
    if (!(zero_is_none && *v == 0) &&
        (*v < (1 << 20) || *v > 64.0 * (1ull << 30) ||
         *v != static_cast<double>(static_cast<uint64_t>(*v)))) {
      return fieldError(path, (*root)[key], key,
                        std::string("must be a whole number of bytes, 1048576 (1 MiB) to "
                                    "68719476736 (64 GiB)") +
                            (zero_is_none ? ", or 0 for no budget" : ""));
    }
    *out = static_cast<size_t>(*v);
    return Status::success();
  };
  if (auto st = readBudget("max_inflight_response_bytes", &config.max_inflight_response_bytes,
                           true);
      !st) {
    return st.error();
  }
  if (auto st = readBudget("max_inflight_reply_bytes", &config.max_inflight_reply_bytes, false);
      !st) {
    return st.error();
  }

  auto scoring = scorer::parseScoringConfig(path, (*root)["scoring"]);
  if (!scoring) return scoring.error();
  config.scoring = *scoring;

  if (YAML::Node systems = (*root)["systems"]) {
    if (!systems.IsSequence()) {
      return fieldError(path, systems, "systems",
                        "must be a list of names or {name, <profile attributes>}");
    }
    std::set<std::string> seen;
    for (const auto& s : systems) {
      // "payments", or {name: web, frontend: true, has_cache: false, ...}: the system's
      // profile, which decides what applies to it (docs/configuration.md#systems).
      std::string name;
      if (s.IsMap()) {
        if (auto st = checkKeys(path, s,
                                {"name", "frontend", "steady_state", "has_cache", "has_database",
                                 "runtime"},
                                "system");
            !st) {
          return st.error();
        }
        auto n = readString(path, s, "name");
        if (!n) return n.error();
        name = *n;
        for (const char* attr : {"frontend", "steady_state", "has_cache", "has_database"}) {
          if (!s[attr]) continue;
          auto b = readBool(path, s, attr, false);
          if (!b) return b.error();
          config.system_facts.push_back(
              scorer::Fact{std::string("system.") + attr, name, *b, where(path, s[attr])});
        }
        if (s["runtime"]) {
          auto rt = readString(path, s, "runtime");
          if (!rt) return rt.error();
          if (!collectors::isRuntime(*rt)) {
            return fieldError(path, s["runtime"], "runtime",
                              "must be container, vm or bare_metal");
          }
          config.system_facts.push_back(
              scorer::Fact{"system.runtime", name, *rt, where(path, s["runtime"])});
        }
      } else if (s.IsScalar()) {
        name = s.Scalar();
      }
      if (name.empty()) return fieldError(path, s, "systems", "entries need a non-empty name");
      if (std::string why; !scorer::isValidSystemName(name, &why)) {
        return fieldError(path, s, "systems", "the system name " + why);
      }
      if (!seen.insert(name).second) {
        return fieldError(path, s, "systems", "duplicate system " + name);
      }
      config.systems.push_back(name);
    }
  }

  auto attestations = readString(path, *root, "attestations_file");
  if (!attestations) return attestations.error();
  if (!attestations->empty()) {
    fs::path a(*attestations);
    if (a.is_relative()) a = fs::path(path).parent_path() / a;
    config.attestations_file = a.lexically_normal().string();
  }
  auto relative = [&](const std::string& p) {
    fs::path f(p);
    if (f.is_relative()) f = fs::path(path).parent_path() / f;
    return f.lexically_normal().string();
  };
  auto tokens = readString(path, *root, "tokens_file");
  if (!tokens) return tokens.error();
  if (!tokens->empty()) config.tokens_file = relative(*tokens);
  auto approval = readBool(path, *root, "require_approval", config.require_approval);
  if (!approval) return approval.error();
  config.require_approval = *approval;
  auto check = readDuration(path, *root, "document_check_interval", config.document_check_interval);
  if (!check) return check.error();
  if (*check < std::chrono::minutes(1)) {
    return fieldError(path, (*root)["document_check_interval"], "document_check_interval",
                      "must be at least 1m");
  }
  config.document_check_interval = *check;
  if (YAML::Node roots = (*root)["document_roots"]) {
    if (!roots.IsSequence()) {
      return fieldError(path, roots, "document_roots", "must be a list of directories");
    }
    for (const auto& r : roots) {
      if (!r.IsScalar() || r.Scalar().empty()) {
        return fieldError(path, r, "document_roots", "entries must be directory paths");
      }
      config.document_roots.push_back(relative(r.Scalar()));
    }
  }

  auto reads = readBool(path, *root, "read_requires_token", config.read_requires_token);
  if (!reads) return reads.error();
  config.read_requires_token = *reads;
  if (YAML::Node hosts = (*root)["allowed_hosts"]) {
    if (!hosts.IsSequence()) {
      return fieldError(path, hosts, "allowed_hosts", "must be a list of host names");
    }
    for (const auto& h : hosts) {
      if (!h.IsScalar() || h.Scalar().empty() ||
          h.Scalar().find_first_of(" /:@") != std::string::npos) {
        return fieldError(path, h, "allowed_hosts",
                          "entries must be host names or addresses, without port or scheme");
      }
      std::string name = h.Scalar();
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      config.allowed_hosts.push_back(name);
    }
  }

  if (YAML::Node hosts = (*root)["document_hosts"]) {
    std::vector<std::string> patterns;
    if (!hosts.IsSequence()) {
      return fieldError(path, hosts, "document_hosts", "must be a list of host patterns");
    }
    for (const auto& h : hosts) {
      if (!h.IsScalar()) return fieldError(path, h, "document_hosts", "entries must be strings");
      patterns.push_back(h.Scalar());
    }
    auto parsed = DocumentHosts::parse(patterns);
    if (!parsed) {
      return fieldError(path, hosts, "document_hosts", parsed.error().message);
    }
    config.document_hosts = std::move(*parsed);
  }

  YAML::Node list = (*root)["collectors"];
  if (!list.IsSequence() || list.size() == 0) {
    return fieldError(path, list.IsDefined() ? list : *root, "collectors",
                      "must be a non-empty list of collectors");
  }
  static const std::regex kName("[A-Za-z0-9_.-]{1,64}");
  std::set<std::string> names;
  for (const auto& node : list) {
    if (!node.IsMap()) return fieldError(path, node, "collectors", "entries must be mappings");
    CollectorEntry entry;
    auto type = readString(path, node, "type");
    if (!type) return type.error();
    const collectors::CollectorFactory* factory = registry.find(*type);
    if (!factory) {
      std::string known;
      for (const auto& t : registry.types()) known += (known.empty() ? "" : ", ") + t;
      return fieldError(path, node["type"].IsDefined() ? node["type"] : node, "type",
                        "'" + *type + "' is not a collector type (known: " + known + ")");
    }
    entry.type = *type;
    auto name = readString(path, node, "name", *type);
    if (!name) return name.error();
    if (!std::regex_match(*name, kName)) {
      return fieldError(path, node["name"], "name",
                        "'" + *name + "' must be 1-64 characters of A-Z a-z 0-9 _ . -");
    }
    if (scorer::isReservedSourceName(*name)) {
      return fieldError(path, node["name"].IsDefined() ? node["name"] : node, "name",
                        "'" + *name + "' is reserved for the agent's own evidence (config, "
                        "attestations, attestations-api): choose another name");
    }
    if (!names.insert(*name).second) {
      return fieldError(path, node["name"].IsDefined() ? node["name"] : node, "name",
                        "two collectors are named '" + *name + "'");
    }
    entry.name = *name;
    auto interval = readDuration(path, node, "interval", entry.interval);
    if (!interval) return interval.error();
    auto timeout = readDuration(path, node, "timeout", entry.timeout);
    if (!timeout) return timeout.error();
    auto ttl = readDuration(path, node, "ttl", *interval * 5);
    if (!ttl) return ttl.error();
    if (interval->count() < 1000) {
      return fieldError(path, node["interval"], "interval", "must be at least 1s");
    }
    if (timeout->count() <= 0 || *timeout > *interval) {
      return fieldError(path, node["timeout"].IsDefined() ? node["timeout"] : node, "timeout",
                        "must be positive and at most the interval (" +
                            formatDuration(*interval) + ")");
    }
    if (*ttl < *interval) {
      return fieldError(path, node["ttl"], "ttl",
                        "must be at least the interval, or evidence expires between polls");
    }
    entry.interval = *interval;
    entry.timeout = *timeout;
    entry.ttl = *ttl;
    auto max_systems = readNumber(path, node, "max_systems", entry.max_systems);
    if (!max_systems) return max_systems.error();
    if (*max_systems < 1 || *max_systems > 1000000 ||
        *max_systems != static_cast<int>(*max_systems)) {
      return fieldError(path, node["max_systems"], "max_systems",
                        "must be a whole number between 1 and 1000000");
    }
    entry.max_systems = static_cast<int>(*max_systems);
    if (YAML::Node from = node["systems_from"]) {
      if (!from.IsSequence()) {
        return fieldError(path, from, "systems_from", "must be a list of collector names");
      }
      for (const auto& n : from) {
        if (!n.IsScalar()) {
          return fieldError(path, n, "systems_from", "must be a list of collector names");
        }
        entry.systems_from.push_back(n.Scalar());
      }
    }
    for (const auto& spec : factory->evidenceKeys()) {
      entry.evidence_keys.push_back(spec.key);
      if (!spec.domain.empty()) {
        entry.evidence_keys.push_back(spec.domain);
        entry.domain_of[spec.key] = spec.domain;
      }
    }
    auto collector = factory->create(collectors::CollectorConfig{entry.name, path, node});
    if (!collector) return collector.error();
    entry.collector = std::move(*collector);
    config.collectors.push_back(std::move(entry));
  }
  // systems_from names other collectors of this config (checked once all are known).
  for (size_t i = 0; i < config.collectors.size(); ++i) {
    for (const auto& other : config.collectors[i].systems_from) {
      if (other == config.collectors[i].name || !names.count(other)) {
        YAML::Node from = list[i]["systems_from"];
        return fieldError(path, from, "systems_from",
                          "'" + other + "' is not another collector of this config");
      }
    }
  }
  return config;
}

}  // namespace

Result<AgentConfig> loadConfig(const std::string& path, const collectors::Registry& registry) {
  return guardYaml(path, [&] { return loadConfigImpl(path, registry); });
}

Result<AgentConfig::Shard> parseShard(const std::string& text) {
  unsigned i = 0, n = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "%u/%u%n", &i, &n, &used) != 2 ||
      used != static_cast<int>(text.size()) || n == 0 || n > 4096 || i >= n) {
    return makeError(ErrorCode::kInvalidArgument,
                     "'" + text + "' is not a shard i/n with 0 <= i < n <= 4096 (e.g. 0/3)");
  }
  return AgentConfig::Shard{i, n};
}

unsigned shardOf(const std::string& system, unsigned count) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : system) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<unsigned>(h % count);
}

}  // namespace opsm::agent
