#include "collectors/alertmanager/alertmanager_collector.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/regex.h"
#include "common/yaml_util.h"

namespace opsm::collectors::alertmanager {

namespace {

constexpr const char* kPrefix = "alerting.alertmanager.";

// One label matcher of a route or silence: label, operator, value.
struct Matcher {
  std::string label;
  bool equal = true;  // = or =~ (vs != and !~)
  bool regex = false;
  std::string value;
  // The compiled value of a regex matcher (RE2, as Alertmanager's own Go regexps: linear
  // time, so a hostile route cannot stall or crash a poll); a pattern that does not compile
  // matches nothing.
  std::optional<Regex> re;

  bool matches(const std::string& v) const {
    bool hit = regex ? (re && re->fullMatch(v)) : v == value;
    return hit == equal;
  }
};

Matcher makeMatcher(std::string label, bool equal, bool regex, std::string value) {
  Matcher m{std::move(label), equal, regex, std::move(value), std::nullopt};
  if (regex) {
    if (auto r = Regex::compile(m.value)) m.re = std::move(*r);
  }
  return m;
}

// Parses `system="payments"`, `system=~"pay.*"`, `system!=x`.
std::optional<Matcher> parseMatcher(const std::string& text) {
  static const Regex kRe = *Regex::compile(
      R"re(\s*\{?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*\}?\s*)re");
  std::vector<std::string> m;
  if (!kRe.fullMatchGroups(text, &m)) return std::nullopt;
  const std::string& op = m[1];
  return makeMatcher(m[0], op == "=" || op == "=~", op == "=~" || op == "!~", m[2]);
}

struct Route {
  std::string receiver;
  std::vector<std::string> group_by;
  std::vector<Matcher> matchers;
  std::vector<Route> routes;
};

Route parseRoute(const YAML::Node& n, const Route* parent) {
  Route r;
  r.receiver = n["receiver"] && n["receiver"].IsScalar() ? n["receiver"].Scalar()
                                                         : (parent ? parent->receiver : "");
  if (n["group_by"] && n["group_by"].IsSequence()) {
    for (const auto& g : n["group_by"]) r.group_by.push_back(g.Scalar());
  } else if (parent) {
    r.group_by = parent->group_by;
  }
  if (n["matchers"] && n["matchers"].IsSequence()) {
    for (const auto& m : n["matchers"]) {
      if (auto parsed = parseMatcher(m.Scalar())) r.matchers.push_back(*parsed);
    }
  }
  if (n["match"] && n["match"].IsMap()) {
    for (const auto& kv : n["match"]) {
      r.matchers.push_back(makeMatcher(kv.first.Scalar(), true, false, kv.second.Scalar()));
    }
  }
  if (n["match_re"] && n["match_re"].IsMap()) {
    for (const auto& kv : n["match_re"]) {
      r.matchers.push_back(makeMatcher(kv.first.Scalar(), true, true, kv.second.Scalar()));
    }
  }
  if (n["routes"] && n["routes"].IsSequence()) {
    for (const auto& child : n["routes"]) r.routes.push_back(parseRoute(child, &r));
  }
  return r;
}

// What a system's alerts can reach: the routes whose matchers on the system label accept it
// (matchers on other labels, e.g. severity, may match some of its alerts, so they count).
struct Reach {
  std::set<std::string> receivers;
  bool dedicated = false;  // a route selects this system by the system label
  bool grouped = false;    // a reachable route groups alerts
};

void walk(const Route& r, const std::string& label, const std::string& system, bool is_root,
          Reach* out) {
  bool names_system = false;
  for (const auto& m : r.matchers) {
    if (m.label != label) continue;
    if (!m.matches(system)) return;
    names_system = true;
  }
  if (!is_root && names_system) out->dedicated = true;
  if (!r.receiver.empty()) out->receivers.insert(r.receiver);
  if (!r.group_by.empty()) out->grouped = true;
  for (const auto& child : r.routes) walk(child, label, system, false, out);
}

// Systems a route tree names by equality matchers on the system label.
void namedSystems(const Route& r, const std::string& label, std::set<std::string>* out) {
  for (const auto& m : r.matchers) {
    if (m.label == label && m.equal && !m.regex) out->insert(m.value);
  }
  for (const auto& child : r.routes) namedSystems(child, label, out);
}

}  // namespace

AlertmanagerCollector::AlertmanagerCollector(AlertmanagerConfig config)
    : config_(std::move(config)), http_(config_.http) {
  while (!config_.url.empty() && config_.url.back() == '/') config_.url.pop_back();
}

Result<rapidjson::Document> AlertmanagerCollector::get(const std::string& path,
                                                       const CollectContext& ctx,
                                                       std::string* locator) const {
  *locator = redactUrl(config_.url) + path;
  auto resp = http_.get(config_.url + path, ctx.remaining());
  if (!resp) return resp.error();
  return parseJson(resp->body, *locator);
}

Result<std::vector<scorer::Fact>> AlertmanagerCollector::collect(const CollectContext& ctx) {
  // A remote config of an unexpected shape must fail the poll, not crash the agent.
  return guardYaml(config_.url, [&] { return collectFacts(ctx); });
}

Result<std::vector<scorer::Fact>> AlertmanagerCollector::collectFacts(const CollectContext& ctx) {
  std::string status_loc;
  auto status = get("/api/v2/status", ctx, &status_loc);
  if (!status) return status.error();
  const auto* config = objectMember(*status, "config");
  if (!config || !member(*config, "original")) {
    return makeError(ErrorCode::kBadResponse, status_loc + ": no config.original in the status");
  }
  auto am_yaml = loadYamlString(stringMember(*config, "original"), status_loc + " config.original",
                                ctx.yamlLimits());
  if (!am_yaml) return makeError(ErrorCode::kBadResponse, am_yaml.error().message);
  YAML::Node route_node = (*am_yaml)["route"];
  if (!route_node.IsMap()) {
    return makeError(ErrorCode::kBadResponse, status_loc + ": config.original has no route");
  }
  Route root = parseRoute(route_node, nullptr);

  // Integration types of each receiver: its non-empty <type>_configs lists.
  std::map<std::string, std::set<std::string>> integrations;
  if (YAML::Node receivers = (*am_yaml)["receivers"]; receivers.IsSequence()) {
    for (const auto& rcv : receivers) {
      if (!rcv["name"]) continue;
      auto& types = integrations[rcv["name"].Scalar()];
      for (const auto& kv : rcv) {
        std::string k = kv.first.Scalar();
        const std::string suffix = "_configs";
        if (k.size() > suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0 &&
            kv.second.IsSequence() && kv.second.size() > 0) {
          types.insert(k.substr(0, k.size() - suffix.size()));
        }
      }
    }
  }
  double inhibit_rules = 0;
  if (YAML::Node ir = (*am_yaml)["inhibit_rules"]; ir.IsSequence()) inhibit_rules = ir.size();
  double peers = 0;
  std::string cluster_status = "unknown";
  if (const auto* cluster = objectMember(*status, "cluster")) {
    if (const auto* p = arrayMember(*cluster, "peers")) peers = p->Size();
    cluster_status = stringMember(*cluster, "status", "unknown");
  }

  std::string alerts_loc;
  auto alerts = get("/api/v2/alerts?active=true&silenced=false&inhibited=false", ctx, &alerts_loc);
  if (!alerts) return alerts.error();
  if (!alerts->IsArray()) return makeError(ErrorCode::kBadResponse, alerts_loc + ": not a list");
  std::map<std::string, int> active_by_system;
  for (const auto& a : alerts->GetArray()) {
    const auto* labels = objectMember(a, "labels");
    if (!labels) continue;
    std::string sys = stringMember(*labels, config_.system_label.c_str());
    if (!sys.empty()) ++active_by_system[sys];
  }

  std::string silences_loc;
  auto silences = get("/api/v2/silences", ctx, &silences_loc);
  if (!silences) return silences.error();
  if (!silences->IsArray()) return makeError(ErrorCode::kBadResponse, silences_loc + ": not a list");
  std::vector<std::vector<Matcher>> active_silences;
  for (const auto& s : silences->GetArray()) {
    const auto* st = objectMember(s, "status");
    if (!st || stringMember(*st, "state") != "active") continue;
    std::vector<Matcher> ms;
    if (const auto* list = arrayMember(s, "matchers")) {
      for (const auto& m : list->GetArray()) {
        const auto* is_eq = member(m, "isEqual");
        const auto* is_re = member(m, "isRegex");
        ms.push_back(makeMatcher(stringMember(m, "name"),
                                 !is_eq || !is_eq->IsBool() || is_eq->GetBool(),
                                 is_re && is_re->IsBool() && is_re->GetBool(),
                                 stringMember(m, "value")));
      }
    }
    active_silences.push_back(std::move(ms));
  }

  // A system the route tree does not name follows the default route: the default evidence.
  std::set<std::string> systems{scorer::kAnySystem};
  namedSystems(root, config_.system_label, &systems);
  std::vector<scorer::Fact> facts;
  auto add = [&](const std::string& system, const char* key, scorer::Value v,
                 const std::string& loc) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), loc});
  };
  for (const auto& system : systems) {
    Reach reach;
    walk(root, config_.system_label, system, true, &reach);
    std::set<std::string> types;
    for (const auto& r : reach.receivers) {
      auto it = integrations.find(r);
      if (it != integrations.end()) types.insert(it->second.begin(), it->second.end());
    }
    int silenced = 0;
    for (const auto& ms : active_silences) {
      bool selects = false;
      for (const auto& m : ms) {
        if (m.label == config_.system_label) selects = m.matches(system);
      }
      silenced += selects;
    }
    add(system, "integration_types", scorer::StringList(types.begin(), types.end()), status_loc);
    add(system, "receivers", static_cast<double>(reach.receivers.size()), status_loc);
    add(system, "dedicated_route", reach.dedicated, status_loc);
    add(system, "grouping_enabled", reach.grouped, status_loc);
    add(system, "inhibit_rules", inhibit_rules, status_loc);
    add(system, "cluster_peers", peers, status_loc);
    add(system, "cluster_status", cluster_status, status_loc);
    add(system, "alerts_active", active_by_system[system], alerts_loc);
    add(system, "silences_active", silenced, silences_loc);
  }
  return facts;
}

namespace {

class AlertmanagerFactory : public CollectorFactory {
 public:
  std::string type() const override { return "alertmanager"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"integration_types", ValueType::kList, "Distinct integration types (email, webhook, slack, pagerduty, wechat, ...: the non-empty <type>_configs of a receiver) of the receivers the system's alerts can reach through the route tree (/api/v2/status config).",
         "alerting.notification_channels"},
        {"receivers", ValueType::kNumber, "Receivers the system's alerts can reach: those of the routes whose matchers on the system label accept the system."},
        {"dedicated_route", ValueType::kBool, "A route below the root selects the system by a matcher on the system label.",
         "alerting.dedicated_route"},
        {"grouping_enabled", ValueType::kBool, "A route the system's alerts can reach groups alerts (non-empty group_by).",
         "alerting.grouping"},
        {"inhibit_rules", ValueType::kNumber, "Inhibit rules in the Alertmanager config.",
         "alerting.inhibit_rules"},
        {"cluster_peers", ValueType::kNumber, "Peers of the Alertmanager cluster (0 when clustering is disabled)."},
        {"cluster_status", ValueType::kString, "Cluster status: ready, settling or disabled."},
        {"alerts_active", ValueType::kNumber, "Active alerts (not silenced, not inhibited) labelled with the system (/api/v2/alerts).",
         "alerting.active_problems"},
        {"silences_active", ValueType::kNumber, "Active silences with a matcher on the system label that selects the system (/api/v2/silences).",
         "alerting.maintenance_windows"},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        urlKey("url", "The Alertmanager, e.g. `http://127.0.0.1:9093`.").isRequired(),
        stringKey("system_label", "The alert label naming the system.").defaults("system").nonEmpty(),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("alertmanager", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    AlertmanagerConfig config;
    config.name = cfg.name();
    config.url = cfg.string("url");
    config.system_label = cfg.string("system_label");
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    config.http = std::move(*http);
    return std::unique_ptr<Collector>(std::make_unique<AlertmanagerCollector>(std::move(config)));
  }
};

}  // namespace

Status registerAlertmanager(Registry& registry) {
  return registry.add(std::make_unique<AlertmanagerFactory>());
}

}  // namespace opsm::collectors::alertmanager
