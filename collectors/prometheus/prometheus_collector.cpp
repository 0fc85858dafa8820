#include "collectors/prometheus/prometheus_collector.h"

#include <algorithm>
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

namespace opsm::collectors::prometheus {

namespace {

constexpr const char* kPrefix = "monitoring.prometheus.";

// A Prometheus this young that lists no target has probably not run service discovery yet.
constexpr double kStartupGraceSeconds = 120;

struct SystemTally {
  int targets = 0;
  int up = 0;
  int unscraped = 0;  // discovered, never scraped yet (health "unknown")
  int https = 0;
  int firing = 0;
  std::set<std::string> signals;
  std::set<std::string> topics;
  bool node_metrics = false;
  int alerting = 0;
  int alerting_with_runbook = 0;
  std::set<std::string> severities;
  // Blackbox probes among its targets (probe_success), by (job, instance).
  struct Probe {
    double success = 0, duration = -1;
    std::set<std::string> kinds;
  };
  std::map<std::pair<std::string, std::string>, Probe> probes;
};

// What an alerting rule's expression watches, by the functions and metric names it uses.
// RE2 (linear time, no recursion on the input): a rule text from the server may be huge.
const std::vector<std::pair<const char*, Regex>>& alertTopics() {
  static const std::vector<std::pair<const char*, Regex>> kTopics = [] {
    auto re = [](const char* s) { return *Regex::compile(s, Regex::Case::kInsensitive); };
    return std::vector<std::pair<const char*, Regex>>{
        // up == 0, up{job="x"} == 0, up{...} < 1, sum(up{...}) == 0, avg_over_time(up[5m]) < 0.9,
        // absent(up{...}), absent_over_time(...)
        {"target_down",
         re(R"((^|[^a-z0-9_:])up\s*(\{[^}]*\})?\s*(\[[^\]]*\])?\s*\)*\s*(==|<|!=|<=)|absent(_over_time)?\s*\()")},
        {"capacity", re(R"(filesystem|disk|memory|mem_|cpu|inode|capacity|saturation|_bytes_free|_avail)")},
        {"prediction", re(R"(predict_linear|holt_winters|double_exponential_smoothing)")},
        {"anomaly", re(R"(stddev_over_time|zscore|z_score|quantile_over_time|mad_over_time)")},
        {"slo", re(R"((^|[^a-z])(slo|sli)([^a-z]|$)|error_budget|burn_?rate)")},
        {"latency", re(R"(duration|latency)")},
        // an error or failure metric (app_errors_total, grpc_server_failed_total) or 5xx codes;
        // not the words in a label value or a name such as kube_pod_failed_scheduling
        {"errors", re(R"([a-z0-9:]_(errors?|failures?|failed)(_total|_count|_sum|_bucket|_ratio\w*|_rate\w*)?\b|5xx|(code|status)\s*=~?\s*"5)")},
        {"probe", re(R"(probe_)")},
    };
  }();
  return kTopics;
}

// Recording rules that hold an SLO's objective: Sloth's slo:objective:ratio, Pyrra's
// pyrra_objective.
const Regex& sloObjectiveRule() {
  static const Regex kRe = *Regex::compile(R"(slo:objective:ratio|pyrra_objective)");
  return kRe;
}

const Regex& sloRecordingRule() {
  static const Regex kRe =
      *Regex::compile(R"((^|[:_])(sli|slo)([:_]|$)|error_budget)", Regex::Case::kInsensitive);
  return kRe;
}

}  // namespace

std::set<std::string> alertTopicsOf(const std::string& expr) {
  std::set<std::string> out;
  for (const auto& [topic, re] : alertTopics()) {
    if (re.partialMatch(expr)) out.insert(topic);
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> defaultSignals() {
  return {
      {"logs", {"promtail_sent_entries_total", "loki_distributor_lines_received_total",
                "vector_component_sent_events_total", "fluentbit_output_proc_records_total",
                "otelcol_exporter_sent_log_records", "otelcol_exporter_sent_log_records_total"}},
      {"tracing", {"otelcol_exporter_sent_spans", "otelcol_exporter_sent_spans_total",
                   "jaeger_collector_spans_received_total", "tempo_distributor_spans_received_total",
                   "traces_spanmetrics_calls_total", "traces_span_metrics_calls_total"}},
      {"probe", {"probe_success"}},
      // request-duration histograms: latency, and errors and traffic by their status label
      {"http", {"http_request_duration_seconds_bucket", "http_server_request_duration_seconds_bucket",
                "http_server_requests_seconds_bucket"}},
      // runtime metrics of an instrumented application process (Micrometer, the JMX exporter
      // as an agent, prom-client, prometheus-net); sites add their own business metrics
      {"application", {"jvm_memory_used_bytes", "jvm_memory_bytes_used", "nodejs_heap_size_used_bytes",
                       "dotnet_total_memory_bytes"}},
      // request counters alone (nginx stub_status, HAProxy responses): traffic, not latency
      {"http_traffic", {"nginx_http_requests_total", "haproxy_backend_http_responses_total"}},
      {"middleware", {"redis_up", "pg_up", "mysql_up", "kafka_brokers", "rabbitmq_identity_info",
                      "mongodb_up", "elasticsearch_cluster_health_status", "memcached_up"}},
      {"load_balancer", {"haproxy_up", "haproxy_backend_up", "nginx_up",
                         "envoy_cluster_upstream_cx_active", "traefik_service_requests_total"}},
      {"autoscaling", {"kube_horizontalpodautoscaler_status_current_replicas"}},
      {"container", {"container_cpu_usage_seconds_total", "kube_pod_info"}},
      {"node", {"node_cpu_seconds_total", "windows_cpu_time_total"}},
  };
}

PrometheusCollector::PrometheusCollector(PrometheusConfig config)
    : config_(std::move(config)), http_(config_.http) {
  config_.url = withoutTrailingSlashes(config_.url);
}

Result<rapidjson::Document> PrometheusCollector::api(const std::string& path,
                                                     const CollectContext& ctx,
                                                     std::string* locator) const {
  *locator = redactUrl(config_.url) + path;
  auto resp = http_.get(config_.url + path, ctx.remaining());
  if (!resp) return resp.error();
  return apiData(resp->body, *locator);
}

std::string PrometheusCollector::systemOf(const Labels& labels) const {
  return systemOfTarget(config_.mapping, labels);
}

Result<std::vector<scorer::Fact>> PrometheusCollector::collect(const CollectContext& ctx) {
  // A remote config of an unexpected shape must fail the poll, not crash the agent.
  return guardYaml(config_.url, [&] { return collectFacts(ctx); });
}

Result<std::vector<scorer::Fact>> PrometheusCollector::collectFacts(const CollectContext& ctx) {
  std::map<std::string, SystemTally> systems;

  // Readiness: a Prometheus that has just (re)started knows no target yet, or none scraped;
  // what it would say now is not what it monitors. Such a poll yields no evidence (the last
  // stays until it expires) instead of "no targets".
  std::string runtime_loc;
  auto runtime = api("/api/v1/status/runtimeinfo", ctx, &runtime_loc);
  if (!runtime) return runtime.error();
  std::optional<double> uptime;
  if (auto started = parseTimestamp(stringMember(*runtime, "startTime")); started.ok()) {
    uptime = toSeconds(ctx.now) - toSeconds(*started);
  }

  // Targets: which systems exist, how many targets each has and how many are up.
  std::string targets_loc;
  auto targets = api("/api/v1/targets?state=active", ctx, &targets_loc);
  if (!targets) return targets.error();
  const auto* active = arrayMember(*targets, "activeTargets");
  if (!active) {
    return makeError(ErrorCode::kBadResponse, targets_loc + ": no activeTargets list in data");
  }
  std::map<std::pair<std::string, std::string>, std::string> target_system;  // (job, instance)
  // The scope labels of each system's targets (job, instance, the system label), to tell
  // which alerting rules select it.
  std::map<std::string, std::vector<Labels>> scope_of;
  size_t scraped = 0;
  for (const auto& t : active->GetArray()) {
    std::string health = stringMember(t, "health");
    if (health != "unknown" && !health.empty()) ++scraped;
    Labels labels = labelsOf(objectMember(t, "labels"));
    std::string system = systemOf(labels);
    if (system.empty()) continue;
    SystemTally& tally = systems[system];
    ++tally.targets;
    if (health == "up") ++tally.up;
    if (health == "unknown") ++tally.unscraped;
    if (stringMember(t, "scrapeUrl").rfind("https://", 0) == 0) ++tally.https;
    target_system[{labels["job"], labels["instance"]}] = system;
    scope_of[system].push_back({{"job", labels["job"]},
                                {"instance", labels["instance"]},
                                {config_.mapping.system_label, system}});
  }
  if (active->Size() > 0 && scraped == 0) {
    return makeError(ErrorCode::kUnavailable,
                     targets_loc + ": not ready: none of its " + std::to_string(active->Size()) +
                         " targets has been scraped yet (just started?); keeping the last "
                         "evidence");
  }
  if (active->Size() == 0 && uptime && *uptime < kStartupGraceSeconds) {
    return makeError(ErrorCode::kUnavailable,
                     targets_loc + ": not ready: no targets discovered yet, " +
                         std::to_string(static_cast<long long>(*uptime)) +
                         "s after start; keeping the last evidence");
  }

  // Node-level resource metrics: which targets expose them.
  std::string query_loc;
  std::string query = "group by (job, instance) (" + config_.node_metric + ")";
  auto result = api("/api/v1/query?query=" + urlEncode(query), ctx, &query_loc);
  if (!result) return result.error();
  const auto* series = arrayMember(*result, "result");
  if (!series) return makeError(ErrorCode::kBadResponse, query_loc + ": no result list in data");
  for (const auto& s : series->GetArray()) {
    Labels m = labelsOf(objectMember(s, "metric"));
    auto it = target_system.find({m["job"], m["instance"]});
    if (it != target_system.end()) systems[it->second].node_metrics = true;
  }

  // Signals: which kinds of telemetry the system's targets provide, by metric name.
  std::string signals_loc;
  std::map<std::string, std::string> signal_of;  // metric name -> kind
  std::string names;
  for (const auto& [kind, metrics] : config_.signals) {
    for (const auto& m : metrics) {
      if (signal_of.emplace(m, kind).second) names += (names.empty() ? "" : "|") + m;
    }
  }
  if (!names.empty()) {
    std::string q = "group by (job, instance, __name__) ({__name__=~\"" + names + "\"})";
    auto found = api("/api/v1/query?query=" + urlEncode(q), ctx, &signals_loc);
    if (!found) return found.error();
    const auto* list = arrayMember(*found, "result");
    if (!list) return makeError(ErrorCode::kBadResponse, signals_loc + ": no result list in data");
    for (const auto& s : list->GetArray()) {
      Labels m = labelsOf(objectMember(s, "metric"));
      auto sys = target_system.find({m["job"], m["instance"]});
      auto kind = signal_of.find(m["__name__"]);
      if (sys != target_system.end() && kind != signal_of.end()) {
        systems[sys->second].signals.insert(kind->second);
      }
    }
  }

  // Blackbox probes: probe_success of the probe targets (job, instance: the probed address),
  // their duration, and their kind by the module's own metrics.
  std::string probes_loc;
  {
    static const std::pair<const char*, const char*> kKinds[] = {
        {"probe_http_status_code", "http"},
        {"probe_icmp_duration_seconds", "icmp"},
        {"probe_dns_answer_rrs", "dns"},  // (every prober reports probe_dns_lookup_time_seconds)
        {"probe_grpc_status_code", "grpc"}};
    std::string q = "{__name__=~\"probe_success|probe_duration_seconds";
    for (const auto& [metric, _] : kKinds) q += std::string("|") + metric;
    q += "\"}";
    auto found = api("/api/v1/query?query=" + urlEncode(q), ctx, &probes_loc);
    if (!found) return found.error();
    const auto* list = arrayMember(*found, "result");
    if (!list) return makeError(ErrorCode::kBadResponse, probes_loc + ": no result list in data");
    for (const auto& s : list->GetArray()) {
      Labels m = labelsOf(objectMember(s, "metric"));
      auto sys = target_system.find({m["job"], m["instance"]});
      if (sys == target_system.end()) continue;
      const auto* value = arrayMember(s, "value");
      double v = 0;
      if (value && value->Size() == 2 && (*value)[1].IsString()) {
        try {
          v = std::stod((*value)[1].GetString());
        } catch (const std::exception&) {
          continue;
        }
      }
      auto& probe = systems[sys->second].probes[{m["job"], m["instance"]}];
      const std::string& name = m["__name__"];
      if (name == "probe_success") probe.success = v;
      if (name == "probe_duration_seconds") probe.duration = v;
      for (const auto& [metric, kind] : kKinds) {
        if (name == metric) probe.kinds.insert(kind);
      }
    }
  }

  // Rules: alerting rules (with severities and runbooks) and recording rules. A rule belongs
  // to the systems it watches (attributeRules: its system label, its selectors against the
  // systems' targets, the recorded series it reads). A rule that watches no system in
  // particular (Watchdog's vector(1), TargetDown's `up == 0` by job) is the platform's: it
  // counts for no system, and is reported as unscoped_alerting_rules, a hint.
  std::string rules_loc;
  auto rules = api("/api/v1/rules", ctx, &rules_loc);
  if (!rules) return rules.error();
  const auto* groups = arrayMember(*rules, "groups");
  if (!groups) return makeError(ErrorCode::kBadResponse, rules_loc + ": no groups list in data");
  std::map<std::string, int> recording_of;  // recording rules that watch each system
  int unscoped_alerting = 0;
  // SLO recording rules selecting a system; server-wide ones say nothing of any one system.
  std::map<std::string, int> slo_recording_of;
  std::map<std::string, int> slo_objectives_of;
  std::map<std::string, SystemTally> own_alerts;
  for (const auto& rule : attributeRules(*groups, scope_of, config_.mapping)) {
    if (rule.type == "recording") {
      for (const auto& o : rule.owners) ++recording_of[o];
      if (sloRecordingRule().partialMatch(rule.name)) {
        for (const auto& o : rule.owners) ++slo_recording_of[o];
      }
      if (sloObjectiveRule().fullMatch(rule.name)) {
        for (const auto& o : rule.owners) ++slo_objectives_of[o];
      }
      continue;
    }
    if (rule.type != "alerting") continue;
    if (rule.owners.empty()) ++unscoped_alerting;
    // Firing alerts belong to the system their own labels name, or whose target they are.
    if (const auto* alerts = arrayMember(*rule.json, "alerts")) {
      for (const auto& a : alerts->GetArray()) {
        if (stringMember(a, "state") != "firing") continue;
        Labels al = labelsOf(objectMember(a, "labels"));
        auto s = al.find(config_.mapping.system_label);
        if (s != al.end()) {
          ++systems[s->second].firing;
        } else if (auto t = target_system.find({al["job"], al["instance"]});
                   t != target_system.end()) {
          ++systems[t->second].firing;
        }
      }
    }
    bool runbook = rule.annotations.count("runbook_url") || rule.annotations.count("runbook");
    auto sev = rule.labels.find(config_.severity_label);
    auto topics = alertTopicsOf(rule.expr);
    for (const auto& o : rule.owners) {
      SystemTally& t = own_alerts[o];
      ++t.alerting;
      if (runbook) ++t.alerting_with_runbook;
      if (sev != rule.labels.end()) t.severities.insert(sev->second);
      t.topics.insert(topics.begin(), topics.end());
    }
  }

  for (const auto& [name, _] : own_alerts) systems[name];  // a system its rules name

  std::string am_loc;
  auto am = api("/api/v1/alertmanagers", ctx, &am_loc);
  if (!am) return am.error();
  const auto* active_am = arrayMember(*am, "activeAlertmanagers");
  double alertmanagers = active_am ? active_am->Size() : 0;

  std::string tsdb_loc;
  auto tsdb = api("/api/v1/status/tsdb", ctx, &tsdb_loc);
  if (!tsdb) return tsdb.error();
  const auto* head = objectMember(*tsdb, "headStats");
  const auto* num_series = head ? member(*head, "numSeries") : nullptr;
  if (!num_series || !num_series->IsNumber()) {
    return makeError(ErrorCode::kBadResponse, tsdb_loc + ": no headStats.numSeries in data");
  }
  double head_series = num_series->GetDouble();

  std::string config_loc;
  auto config = api("/api/v1/status/config", ctx, &config_loc);
  if (!config) return config.error();
  auto prom_yaml = loadYamlString(stringMember(*config, "yaml"), config_loc, ctx.yamlLimits());
  if (!prom_yaml) return makeError(ErrorCode::kBadResponse, prom_yaml.error().message);
  YAML::Node remote_write = (*prom_yaml)["remote_write"];
  bool has_remote_write = remote_write.IsSequence() && remote_write.size() > 0;
  // Data sent on unencrypted: a remote_write URL over plain http.
  bool remote_write_plain = false;
  if (has_remote_write) {
    for (const auto& rw : remote_write) {
      if (rw.IsMap() && rw["url"] && rw["url"].IsScalar() &&
          rw["url"].Scalar().rfind("https://", 0) != 0) {
        remote_write_plain = true;
      }
    }
  }
  std::set<std::string> discovery;
  if (YAML::Node scrape = (*prom_yaml)["scrape_configs"]; scrape.IsSequence()) {
    for (const auto& job : scrape) {
      if (!job.IsMap()) continue;
      for (const auto& kv : job) {
        std::string k = kv.first.Scalar();
        if (k.size() > 11 && k.compare(k.size() - 11, 11, "_sd_configs") == 0) {
          discovery.insert(k.substr(0, k.size() - 11));
        }
      }
    }
  }
  std::optional<double> scrape_interval;
  if (YAML::Node si = (*prom_yaml)["global"]["scrape_interval"]; si.IsScalar()) {
    if (auto d = parseDuration(si.Scalar())) scrape_interval = toSeconds(*d);
  }

  // "15d", or "15d or 512MiB" when a size limit is set too: keep the time part.
  std::optional<double> retention;
  std::string retention_text = stringMember(*runtime, "storageRetention");
  if (auto d = parseDuration(retention_text.substr(0, retention_text.find(' ')))) {
    retention = toSeconds(*d);
  }

  std::vector<scorer::Fact> facts;
  auto add = [&](const std::string& system, const char* key, scorer::Value v,
                 const std::string& loc) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), loc});
  };
  for (const auto& [name, _] : slo_recording_of) systems[name];
  for (const auto& [name, _] : slo_objectives_of) systems[name];
  for (auto& [system, t] : systems) {
    const bool monitored = t.targets > 0;  // the server scrapes the system
    add(system, "targets_total", t.targets, targets_loc);
    add(system, "targets_up", t.up, targets_loc);
    if (t.targets - t.unscraped > 0) {
      add(system, "targets_up_ratio", static_cast<double>(t.up) / (t.targets - t.unscraped),
          targets_loc);
    }
    add(system, "node_metrics_scraped", t.node_metrics, query_loc + " [" + query + "]");
    if (monitored) {
      add(system, "targets_https_ratio", static_cast<double>(t.https) / t.targets, targets_loc);
    }
    add(system, "signals", scorer::StringList(t.signals.begin(), t.signals.end()),
        signals_loc.empty() ? query_loc : signals_loc);
    // The rules that watch the system (never the platform's unscoped ones).
    const SystemTally& rules_of = own_alerts[system];
    add(system, "alerting_rules", rules_of.alerting, rules_loc);
    if (rules_of.alerting > 0) {
      add(system, "alerting_rules_with_runbook_ratio",
          static_cast<double>(rules_of.alerting_with_runbook) / rules_of.alerting, rules_loc);
    }
    add(system, "alert_severities",
        scorer::StringList(rules_of.severities.begin(), rules_of.severities.end()), rules_loc);
    add(system, "alert_topics", scorer::StringList(rules_of.topics.begin(), rules_of.topics.end()),
        rules_loc);
    add(system, "slo_recording_rules", slo_recording_of[system], rules_loc);
    add(system, "slo_objectives", slo_objectives_of[system], rules_loc);
    // Probes of the system: the ones probe_success was seen for (a module that reported
    // neither http, icmp, dns nor grpc metrics probes tcp).
    int probes = 0, succeeding = 0;
    double slowest = -1;
    std::set<std::string> kinds;
    for (const auto& [_, p] : t.probes) {
      ++probes;
      succeeding += p.success >= 1;
      slowest = std::max(slowest, p.duration);
      if (p.kinds.empty()) kinds.insert("tcp");
      kinds.insert(p.kinds.begin(), p.kinds.end());
    }
    add(system, "probes", probes, probes_loc);
    if (probes > 0) {
      add(system, "probes_succeeding", succeeding, probes_loc);
      add(system, "probe_success_ratio", static_cast<double>(succeeding) / probes, probes_loc);
      add(system, "probe_kinds", scorer::StringList(kinds.begin(), kinds.end()), probes_loc);
      if (slowest >= 0) add(system, "probe_duration_seconds_max", slowest, probes_loc);
    }
    add(system, "alerts_firing", t.firing, rules_loc);
    if (!monitored) continue;
    // What the server itself offers, for the systems whose data it holds.
    add(system, "recording_rules", recording_of[system], rules_loc);
    add(system, "unscoped_alerting_rules", unscoped_alerting, rules_loc);
    add(system, "alertmanagers_active", alertmanagers, am_loc);
    add(system, "tsdb_head_series", head_series, tsdb_loc);
    add(system, "remote_write_configured", has_remote_write, config_loc);
    add(system, "remote_write_plain", remote_write_plain, config_loc);
    add(system, "service_discovery", scorer::StringList(discovery.begin(), discovery.end()),
        config_loc);
    if (scrape_interval) add(system, "scrape_interval_seconds", *scrape_interval, config_loc);
    if (retention) add(system, "storage_retention_seconds", *retention, runtime_loc);
    add(system, "query_api_ok", true, query_loc);
  }
  // The default: only absence, for systems this server knows through `systems_from` (a
  // system it knows of but has no target of is not monitored by it); no server capability.
  const std::string& any = scorer::kAnySystem;
  add(any, "targets_total", 0, targets_loc);
  add(any, "targets_up", 0, targets_loc);
  add(any, "node_metrics_scraped", false, query_loc + " [" + query + "]");
  add(any, "signals", scorer::StringList{}, signals_loc.empty() ? query_loc : signals_loc);
  add(any, "alerting_rules", 0, rules_loc);
  add(any, "alert_severities", scorer::StringList{}, rules_loc);
  add(any, "alert_topics", scorer::StringList{}, rules_loc);
  add(any, "slo_recording_rules", 0, rules_loc);
  add(any, "slo_objectives", 0, rules_loc);
  add(any, "probes", 0, probes_loc);
  add(any, "alerts_firing", 0, rules_loc);
  return facts;
}

namespace {

class PrometheusFactory : public CollectorFactory {
 public:
  std::string type() const override { return "prometheus"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"targets_total", ValueType::kNumber, "Active scrape targets of the system (/api/v1/targets).",
         "monitoring.targets"},
        {"targets_up", ValueType::kNumber, "Of those, targets whose last scrape succeeded (health = up).",
         "monitoring.targets_up"},
        {"targets_up_ratio", ValueType::kNumber, "targets_up / targets_total; absent without targets.",
         "monitoring.targets_up_ratio"},
        {"node_metrics_scraped", ValueType::kBool, "Some target of the system exposes the node metric (default node_cpu_seconds_total), by an instant query grouped by job and instance.",
         "monitoring.host_metrics"},
        {"alerting_rules", ValueType::kNumber, "Alerting rules that watch the system (/api/v1/rules): by their system label, by selective job, instance or system-label matchers of their selectors against its targets, by a recorded series of a recording rule that watches it, or by a series `series_systems` maps to it. A rule that selects no system in particular (vector(1), `up == 0`, `up{job=~\".+\"}`) counts for none (unscoped_alerting_rules).",
         "monitoring.alert_rules"},
        {"unscoped_alerting_rules", ValueType::kNumber, "Alerting rules of the server that watch no system in particular (kube-prometheus's Watchdog, InfoInhibitor, TargetDown): the platform's, a hint for the systems the server scrapes, never a rule of theirs.",
         "monitoring.platform_alert_rules"},
        {"alerting_rules_with_runbook_ratio", ValueType::kNumber, "Share of those alerting rules with a runbook_url or runbook annotation; absent without rules.",
         "monitoring.alert_rules_with_runbook_ratio"},
        {"alert_severities", ValueType::kList, "Distinct severity label values of those alerting rules.",
         "monitoring.alert_severities"},
        {"recording_rules", ValueType::kNumber, "Recording rules that watch the system (attributed as alerting rules are: a server-wide `sum by (job) (up)` derives nothing from its data in particular); only for systems the server scrapes.",
         "monitoring.derived_series_rules"},
        {"alertmanagers_active", ValueType::kNumber, "Alertmanagers the server sends alerts to (/api/v1/alertmanagers).",
         "monitoring.alert_notifiers"},
        {"tsdb_head_series", ValueType::kNumber, "Series in the TSDB head block (/api/v1/status/tsdb).",
         "monitoring.series"},
        {"remote_write_configured", ValueType::kBool, "The server's config has at least one remote_write entry (/api/v1/status/config).",
         "monitoring.remote_storage"},
        {"remote_write_plain", ValueType::kBool, "A remote_write URL of the server's config is not https: the data it forwards travels unencrypted (false without remote_write).",
         "monitoring.remote_write_plain"},
        {"scrape_interval_seconds", ValueType::kNumber, "Global scrape interval of the server's config.",
         "monitoring.collection_interval_seconds"},
        {"storage_retention_seconds", ValueType::kNumber, "Time-based TSDB retention (/api/v1/status/runtimeinfo); absent when only size-based.",
         "monitoring.retention_seconds"},
        {"query_api_ok", ValueType::kBool, "The query API answered an instant query; only for systems the server scrapes.",
         "monitoring.query_api"},
        {"targets_https_ratio", ValueType::kNumber, "Share of the system's targets scraped over https (scrapeUrl); absent without targets.",
         "monitoring.collection_tls_ratio"},
        {"signals", ValueType::kList, "Kinds of telemetry the system's targets provide (logs, tracing, probe, http: request-duration histograms, application: an instrumented application's runtime, http_traffic: request counters only, middleware, load_balancer, autoscaling, container, node), by the metric names of `signals` present on them, in one instant query grouped by job, instance and __name__.",
         "monitoring.signals"},
        {"alert_topics", ValueType::kList, "What the system's alerting rules watch, by their expressions: target_down (up ==, absent), capacity (filesystem, disk, memory, cpu...), prediction (predict_linear, holt_winters), anomaly (stddev_over_time, quantile_over_time...), slo (slo, sli, error_budget, burn rate), latency, errors, probe.",
         "monitoring.alert_topics"},
        {"probes", ValueType::kNumber, "Blackbox probes of the system: its targets with a probe_success series (prometheus-blackbox-exporter scraped with the system label; instance is the probed address).",
         "probes.count"},
        {"probes_succeeding", ValueType::kNumber, "Probes of the system whose probe_success is 1 now."},
        {"probe_success_ratio", ValueType::kNumber, "Probes of the system succeeding now / its probes; absent without probes.",
         "probes.success_ratio"},
        {"probe_kinds", ValueType::kList, "Kinds of the system's probes by their module's metrics: http (probe_http_status_code), icmp (probe_icmp_duration_seconds), dns (probe_dns_answer_rrs), grpc (probe_grpc_status_code); tcp otherwise.",
         "probes.kinds"},
        {"probe_duration_seconds_max", ValueType::kNumber, "The slowest of the system's probes (probe_duration_seconds).",
         "probes.duration_seconds_max"},
        {"alerts_firing", ValueType::kNumber, "Alerts firing now whose labels name the system (the alerts of /api/v1/rules)."},
        {"slo_recording_rules", ValueType::kNumber, "Recording rules whose name marks an SLI/SLO (sli or slo as a name part, or error_budget) and that select the system (its system label, or job, instance or system-label matchers against its targets); server-wide ones count for no system.",
         "monitoring.slo_rules"},
        {"slo_objectives", ValueType::kNumber, "SLO objectives that watch the system: recording rules holding an objective (Sloth's slo:objective:ratio, Pyrra's pyrra_objective) attributed to it (its system label, a `rule_system_labels` label such as sloth_service, or its selectors). An SLI recording rule alone names no objective.",
         "monitoring.slo_objectives"},
        {"service_discovery", ValueType::kList, "Service discovery mechanisms of the scrape configs (the <x> of <x>_sd_configs: file, consul, kubernetes, dns, ...)."},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        urlKey("url", "The Prometheus server, e.g. `http://127.0.0.1:9090`.").isRequired(),
        stringKey("system_label", "The target label naming the system.").defaults("system").nonEmpty(),
        mapKey("systems_by_job", "Instead of the label: systems and a regular expression each "
                                 "that job names fully match, tried in order.")
            .nonEmpty(),
        stringListKey("rule_system_labels",
                      "Further rule labels naming the system a rule watches, e.g. "
                      "`[sloth_service]` for the rules Sloth generates."),
        mapKey("series_systems", "Recorded series the site maps to a system, e.g. "
                                 "`{\"slo:sli_error:ratio_rate5m\": payments}`: an alerting "
                                 "rule on the series watches that system.")
            .nonEmpty(),
        stringKey("severity_label", "The alerting-rule label holding the severity.")
            .defaults("severity")
            .nonEmpty(),
        stringKey("node_metric", "A metric only node-level exporters expose.")
            .defaults("node_cpu_seconds_total")
            .nonEmpty(),
        mapKey("signals", "Signal kinds and their metric names, adding to or replacing the "
                          "defaults (see Signals), e.g. `{business: [orders_total]}`."),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("prometheus", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    const std::string& file = cfg.file();
    PrometheusConfig config;
    config.name = cfg.name();
    config.url = cfg.string("url");
    config.mapping.system_label = cfg.string("system_label");
    config.severity_label = cfg.string("severity_label");
    config.node_metric = cfg.string("node_metric");
    if (YAML::Node by_job = cfg.node("systems_by_job")) {
      for (const auto& kv : by_job) {
        if (!kv.second.IsScalar()) {
          return fieldError(file, kv.second, "systems_by_job." + kv.first.Scalar(),
                            "must be a regular expression");
        }
        auto re = Regex::compile(kv.second.Scalar());
        if (!re) {
          return fieldError(file, kv.second, "systems_by_job." + kv.first.Scalar(),
                            re.error().message);
        }
        config.mapping.by_job.emplace_back(kv.first.Scalar(), std::move(*re));
      }
    }
    config.mapping.rule_system_labels = cfg.strings("rule_system_labels");
    if (YAML::Node series = cfg.node("series_systems")) {
      static const std::regex kSeries("[a-zA-Z_:][a-zA-Z0-9_:]*");
      for (const auto& kv : series) {
        const std::string name = kv.first.Scalar();
        if (!std::regex_match(name, kSeries)) {
          return fieldError(file, kv.first, "series_systems", "'" + name + "' is not a series name");
        }
        if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
          return fieldError(file, kv.second, "series_systems." + name, "must name a system");
        }
        config.mapping.series_systems[name] = kv.second.Scalar();
      }
    }
    config.signals = defaultSignals();
    if (YAML::Node sig = cfg.node("signals")) {
      // Replaces or adds kinds: {logs: [my_shipper_lines_total], business: [orders_total]}.
      static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
      for (const auto& kv : sig) {
        std::string kind = kv.first.Scalar();
        std::vector<std::string> metrics;
        if (!kv.second.IsSequence()) {
          return fieldError(file, kv.second, "signals." + kind, "must be a list of metric names");
        }
        for (const auto& m : kv.second) {
          if (!m.IsScalar() || !std::regex_match(m.Scalar(), kName)) {
            return fieldError(file, m, "signals." + kind, "'" + (m.IsScalar() ? m.Scalar() : "") +
                                                               "' is not a metric name");
          }
          metrics.push_back(m.Scalar());
        }
        auto it = std::find_if(config.signals.begin(), config.signals.end(),
                               [&](const auto& p) { return p.first == kind; });
        if (it != config.signals.end()) {
          it->second = metrics;
        } else {
          config.signals.emplace_back(kind, metrics);
        }
      }
    }
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    config.http = std::move(*http);
    return std::unique_ptr<Collector>(std::make_unique<PrometheusCollector>(std::move(config)));
  }
};

}  // namespace

Status registerPrometheus(Registry& registry) {
  return registry.add(std::make_unique<PrometheusFactory>());
}

}  // namespace opsm::collectors::prometheus
