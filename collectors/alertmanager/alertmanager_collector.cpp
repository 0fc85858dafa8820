#include "collectors/alertmanager/alertmanager_collector.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "collectors/prometheus/promql_selectors.h"
#include "collectors/prometheus/rule_attribution.h"
#include "common/regex.h"
#include "common/yaml_util.h"

namespace opsm::collectors::alertmanager {

namespace {

constexpr const char* kPrefix = "alerting.alertmanager.";

// One label matcher of a route, inhibit rule or silence: the same =, !=, =~ and !~ as a
// PromQL selector's (RE2, fully anchored as Alertmanager's Go regexps: linear time, so a
// hostile route cannot stall or crash a poll; a pattern that does not compile matches
// nothing).
using Matcher = prometheus::LabelMatcher;

Matcher makeMatcher(std::string label, bool equal, bool regex, std::string value) {
  using Op = Matcher::Op;
  Matcher m{std::move(label), regex ? (equal ? Op::kRe : Op::kNre) : (equal ? Op::kEq : Op::kNe),
            std::move(value), std::nullopt};
  if (regex) {
    if (auto r = Regex::compile(m.value)) m.re = std::move(*r);
  }
  return m;
}

// Parses `system="payments"`, `system=~"pay.*"`, `system!=x`, `severity =~ "warning|info"`.
std::optional<Matcher> parseMatcher(const std::string& text) {
  static const Regex kRe = *Regex::compile(
      R"re(\s*\{?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*\}?\s*)re");
  std::vector<std::string> m;
  if (!kRe.fullMatchGroups(text, &m)) return std::nullopt;
  const std::string& op = m[1];
  return makeMatcher(m[0], op == "=" || op == "=~", op == "=~" || op == "!~", m[2]);
}

// The matchers of a route or inhibit rule under `key` (new syntax), `key_match` (=) and
// `key_match_re` (=~); `base` is "" for a route, "source_" or "target_" for inhibit rules.
// A matcher that cannot be read matches nothing (a route we cannot read is not reached).
std::vector<Matcher> matchersOf(const YAML::Node& n, const std::string& base) {
  std::vector<Matcher> out;
  if (YAML::Node ms = n[base + "matchers"]; ms && ms.IsSequence()) {
    for (const auto& m : ms) {
      if (!m.IsScalar()) continue;
      if (auto parsed = parseMatcher(m.Scalar())) {
        out.push_back(*parsed);
      } else {
        out.push_back(makeMatcher("__unreadable__", true, false, "\x01"));
      }
    }
  }
  if (YAML::Node mm = n[base + "match"]; mm && mm.IsMap()) {
    for (const auto& kv : mm) {
      out.push_back(makeMatcher(kv.first.Scalar(), true, false, kv.second.Scalar()));
    }
  }
  if (YAML::Node mr = n[base + "match_re"]; mr && mr.IsMap()) {
    for (const auto& kv : mr) {
      out.push_back(makeMatcher(kv.first.Scalar(), true, true, kv.second.Scalar()));
    }
  }
  return out;
}

using prometheus::Labels;

bool matchAll(const std::vector<Matcher>& ms, const Labels& alert) {
  for (const auto& m : ms) {
    auto it = alert.find(m.label);  // an absent label matches as the empty value
    if (!m.matches(it == alert.end() ? std::string() : it->second)) return false;
  }
  return true;
}

struct Route {
  std::string receiver;
  std::vector<std::string> group_by;
  std::vector<Matcher> matchers;
  bool continue_ = false;
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
  r.matchers = matchersOf(n, "");
  r.continue_ = n["continue"] && n["continue"].IsScalar() && n["continue"].Scalar() == "true";
  if (n["routes"] && n["routes"].IsSequence()) {
    for (const auto& child : n["routes"]) r.routes.push_back(parseRoute(child, &r));
  }
  return r;
}

// Routes one alert as Alertmanager does: the first matching child takes it (and the next
// matching ones while `continue` is set), recursively; a route none of whose children
// matches handles it itself. Appends the path (root first) of every route that handles it.
void routeAlert(const Route& r, const Labels& alert, std::vector<const Route*>* path,
                std::vector<std::vector<const Route*>>* out) {
  path->push_back(&r);
  bool taken = false;
  for (const auto& child : r.routes) {
    if (!matchAll(child.matchers, alert)) continue;
    taken = true;
    routeAlert(child, alert, path, out);
    if (!child.continue_) break;
  }
  if (!taken) out->push_back(*path);
  path->pop_back();
}

// Systems a route tree names by equality matchers on the system label.
void namedSystems(const Route& r, const std::string& label, std::set<std::string>* out) {
  for (const auto& m : r.matchers) {
    if (m.label == label && m.op == Matcher::Op::kEq && !m.value.empty()) out->insert(m.value);
  }
  for (const auto& child : r.routes) namedSystems(child, label, out);
}

// The system label value of the default evidence (systems the tree does not name): one no
// positive matcher names.
const char* const kUnnamedSystem = "\x01unnamed-system\x01";

}  // namespace

AlertmanagerCollector::AlertmanagerCollector(AlertmanagerConfig config)
    : config_(std::move(config)),
      http_(config_.http),
      prometheus_http_(withoutCredentials(config_.http)) {
  config_.url = withoutTrailingSlashes(config_.url);
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
  // Inhibit rules by their target matchers: a rule counts for a system when it can mute one of
  // the system's alerts.
  std::vector<std::vector<Matcher>> inhibit_targets;
  if (YAML::Node ir = (*am_yaml)["inhibit_rules"]; ir.IsSequence()) {
    for (const auto& rule : ir) {
      if (rule.IsMap()) inhibit_targets.push_back(matchersOf(rule, "target_"));
    }
  }
  double peers = 0;
  std::string cluster_status = "unknown";
  if (const auto* cluster = objectMember(*status, "cluster")) {
    if (const auto* p = arrayMember(*cluster, "peers")) peers = p->Size();
    cluster_status = stringMember(*cluster, "status", "unknown");
  }

  // The alerts each system can send: the label sets of the alerting rules that watch it in the
  // Prometheus that sends here (prometheus_url), else only its system label; and the labels of
  // its alerts active now.
  std::map<std::string, std::vector<Labels>> alerts_of;
  std::string rules_loc;
  if (!config_.prometheus_url.empty()) {
    auto by_system = prometheus::alertLabelsBySystem(prometheus_http_, config_.prometheus_url,
                                                     config_.prometheus_mapping, ctx, &rules_loc);
    if (!by_system) return by_system.error();
    alerts_of = std::move(*by_system);
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
    if (sys.empty()) continue;
    ++active_by_system[sys];
    alerts_of[sys].push_back(prometheus::labelsOf(labels));
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

  // A system the route tree does not name, and that sends no alert we know of, follows the
  // default route: the default evidence.
  std::set<std::string> systems{scorer::kAnySystem};
  namedSystems(root, config_.system_label, &systems);
  for (const auto& [system, _] : alerts_of) systems.insert(system);
  std::vector<scorer::Fact> facts;
  auto add = [&](const std::string& system, const char* key, scorer::Value v,
                 const std::string& loc) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), loc});
  };
  const std::string where = rules_loc.empty() ? status_loc : status_loc + " + " + rules_loc;
  for (const auto& system : systems) {
    const bool any = system == scorer::kAnySystem;
    const std::string value = any ? kUnnamedSystem : system;
    std::vector<Labels> sends;
    if (auto it = alerts_of.find(system); it != alerts_of.end()) sends = it->second;
    // Without the rules of its Prometheus, all we know of its alerts is their system label.
    if (config_.prometheus_url.empty()) sends.push_back({{config_.system_label, value}});
    std::set<std::string> receivers, types;
    bool dedicated = false, grouped = false;
    for (const auto& alert : sends) {
      std::vector<const Route*> path;
      std::vector<std::vector<const Route*>> handled;
      routeAlert(root, alert, &path, &handled);
      for (const auto& p : handled) {
        const Route& last = *p.back();
        receivers.insert(last.receiver);
        auto it = integrations.find(last.receiver);
        // The `null` receiver, or any without an integration, notifies nobody.
        if (it == integrations.end() || it->second.empty()) continue;
        types.insert(it->second.begin(), it->second.end());
        // Grouped: the handling route groups by some labels (`...` groups by all: no grouping).
        if (!last.group_by.empty() &&
            std::find(last.group_by.begin(), last.group_by.end(), "...") == last.group_by.end()) {
          grouped = true;
        }
        // Dedicated: a route on the way (not the root) names this system by a positive matcher.
        for (size_t i = 1; i < p.size() && !any; ++i) {
          for (const auto& m : p[i]->matchers) {
            if (m.label == config_.system_label && m.selective() && m.matches(system)) {
              dedicated = true;
            }
          }
        }
      }
    }
    int inhibiting = 0;
    for (const auto& targets : inhibit_targets) {
      inhibiting += std::any_of(sends.begin(), sends.end(),
                                [&](const Labels& a) { return matchAll(targets, a); });
    }
    int silenced = 0;
    for (const auto& ms : active_silences) {
      bool selects = false;
      for (const auto& m : ms) {
        if (m.label == config_.system_label) selects = m.matches(value);
      }
      silenced += selects;
    }
    add(system, "integration_types", scorer::StringList(types.begin(), types.end()), where);
    add(system, "receivers", static_cast<double>(receivers.size()), where);
    add(system, "dedicated_route", dedicated, where);
    add(system, "grouping_enabled", grouped, where);
    add(system, "inhibit_rules", inhibiting, where);
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
        {"integration_types", ValueType::kList, "Distinct integration types (email, webhook, slack, pagerduty, wechat, ...: the non-empty <type>_configs of a receiver) of the receivers the system's alerts are routed to, routing each alert as Alertmanager does (first match, continue, every matcher of a route; /api/v2/status config). The system's alerts: the label sets of the rules that watch it (prometheus_url) and its active alerts, else its system label alone. A receiver without integrations (`null`) adds none.",
         "alerting.notification_channels"},
        {"receivers", ValueType::kNumber, "Receivers the system's alerts are routed to (also those without integrations)."},
        {"dedicated_route", ValueType::kBool, "One of the system's alerts reaches a receiver with an integration through a route below the root that names the system by a positive matcher on the system label (`=` or a selective `=~`; not `!=`, not `=~\".+\"`).",
         "alerting.dedicated_route"},
        {"grouping_enabled", ValueType::kBool, "A route that hands one of the system's alerts to a receiver with an integration groups alerts (group_by set, not `...`).",
         "alerting.grouping"},
        {"inhibit_rules", ValueType::kNumber, "Inhibit rules whose target matchers match one of the system's alerts (they can mute it).",
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
        urlKey("prometheus_url",
               "The Prometheus whose alerting rules send here, e.g. `http://127.0.0.1:9090`: "
               "the labels of the rules that watch a system (and its targets' system label) "
               "are the alerts routed; without it only the system label is known, and routes "
               "on other labels are not taken. Read with the same TLS settings and without the "
               "Alertmanager's credentials."),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("alertmanager", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    AlertmanagerConfig config;
    config.name = cfg.name();
    config.url = cfg.string("url");
    config.system_label = cfg.string("system_label");
    if (cfg.has("prometheus_url")) {
      config.prometheus_url = withoutTrailingSlashes(cfg.string("prometheus_url"));
      config.prometheus_mapping.system_label = config.system_label;
    }
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
