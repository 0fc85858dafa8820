#include "scorer/domain.h"

#include <algorithm>
#include <set>

namespace opsm::scorer {

const char* mergeName(Merge m) {
  switch (m) {
    case Merge::kNewest:
      return "newest";
    case Merge::kAny:
      return "any";
    case Merge::kAll:
      return "all";
    case Merge::kMin:
      return "min";
    case Merge::kMax:
      return "max";
    case Merge::kUnion:
      return "union";
  }
  return "newest";
}

namespace {

using enum ValueType;
using enum Merge;

std::vector<DomainKeySpec> makeDomainKeys() {
  std::vector<DomainKeySpec> keys = {
      // alerting: routing and notification of alerts
      {"alerting.active_problems", kNumber, kMax,
       "Alerts or problems of the system firing now (not silenced, not in maintenance)."},
      {"alerting.dedicated_route", kBool, kAny,
       "The alert routing has a route (Alertmanager) or action (Zabbix) that selects this system "
       "by name: its alerts reach the people responsible for it."},
      {"alerting.escalation", kBool, kAny,
       "Notifications of the system's alerts escalate: an action with more than one step, or a "
       "route that repeats to a further receiver."},
      {"alerting.grouping", kBool, kAny,
       "Alerts of the system are grouped before notification (Alertmanager group_by)."},
      {"alerting.inhibit_rules", kNumber, kMax,
       "Rules that suppress alerts caused by another alert: Alertmanager inhibit rules, Zabbix "
       "trigger dependencies."},
      {"alerting.maintenance_windows", kNumber, kMax,
       "Maintenance periods or silences covering the system now."},
      {"alerting.notification_channels", kList, kUnion,
       "Distinct kinds of channel (email, webhook, sms, wechat, ...) the system's alerts reach."},
      // backup
      {"backup.check_ok", kBool, kAll,
       "The backup repository passed its integrity check on the last poll (every repository "
       "holding the system's backups)."},
      {"backup.encrypted", kBool, kAll, "Every repository holding the system's backups is encrypted."},
      {"backup.newest_age_seconds", kNumber, kMin,
       "Seconds since the system's newest backup (the newest of any tool)."},
      {"backup.oldest_age_seconds", kNumber, kMax,
       "Seconds since the oldest backup kept: how far back a restore can go."},
      {"backup.pitr_possible", kBool, kAny,
       "Point-in-time recovery of the system's database is possible from the backups and the "
       "WAL archive."},
      {"backup.snapshots", kNumber, kMax,
       "Backups (snapshots, archives) of the system kept in one repository (the largest)."},
      // cache
      {"cache.append_log", kBool, kAny, "The cache persists every write to an append-only log."},
      {"cache.failover_quorum_ok", kBool, kAny,
       "Enough failover agents (Redis Sentinels) agree to authorise a failover."},
      {"cache.min_replicas_per_shard", kNumber, kMin,
       "In a sharded cache cluster: the fewest healthy replicas any shard has."},
      {"cache.replica_link_up", kBool, kAny, "On a replica: the link to its primary is up."},
      {"cache.replicas_online", kNumber, kMax, "Replicas connected to the cache and in sync."},
      {"cache.role", kString, kNewest, "The cache server's replication role (master or replica)."},
      {"cache.hit_ratio", kNumber, kMin, "Key lookups that hit / key lookups, of the cache server since it started."},
      {"cache.serves_hot_data", kBool, kAny,
       "The server is used as a cache of hot data (most of its key lookups hit, or the site says "
       "so), not as a queue broker or a store."},
      {"cache.sharded", kBool, kAny, "The cache runs as a sharded, distributed cluster."},
      {"cache.snapshot_configured", kBool, kAny, "Periodic snapshots of the cache are configured."},
      {"cache.snapshot_last_ok", kBool, kAll, "The last snapshot of the cache succeeded."},
      // change
      {"change.commits", kNumber, kMax, "Commits to the system's repository within the window."},
      {"change.deploy_failure_ratio", kNumber, kMax,
       "Failed deployments / deployments within the window."},
      {"change.deployments", kNumber, kMax, "Deployments of the system within the window."},
      {"change.rollbacks", kNumber, kMax, "Deployments that rolled back to an earlier version."},
      {"change.ticket_success_ratio", kNumber, kMin,
       "Change tickets closed as successful / change tickets closed, within the window."},
      // cmdb
      {"cmdb.ci_complete_ratio", kNumber, kMin,
       "Configuration items of the system with every required field filled / all of them."},
      {"cmdb.ci_related_ratio", kNumber, kMin,
       "Configuration items of the system related to another item / all of them."},
      {"cmdb.cis", kNumber, kMax, "Configuration items of the system in the CMDB."},
      {"cmdb.devices", kNumber, kMax, "Physical devices of the system in the CMDB."},
      {"cmdb.services", kNumber, kMax, "Application services of the system in the CMDB."},
      {"cmdb.virtual_machines", kNumber, kMax, "Virtual machines of the system in the CMDB."},
      // database
      {"database.archive_age_seconds", kNumber, kMin,
       "Seconds since the database last archived a WAL segment successfully."},
      {"database.backup_age_seconds", kNumber, kMin,
       "Seconds since the newest backup of the system's database by a database backup tool "
       "(pgBackRest): not a file-level backup of its disk."},
      {"database.automatic_failover", kBool, kAny,
       "An HA manager (Patroni) promotes a replica automatically when the primary fails: the "
       "cluster has a leader, a healthy replica and failover is not paused."},
      {"database.cluster_members", kNumber, kMax, "Members of the database HA cluster."},
      {"database.failovers", kNumber, kMax,
       "Leader changes (failovers and switchovers) in the HA cluster's history."},
      {"database.replica_lag_seconds_max", kNumber, kMax,
       "The largest replication lag of any replica, in seconds."},
      {"database.replica_streaming", kBool, kAny, "On a replica: it streams WAL from its primary."},
      {"database.replicas", kNumber, kMax, "Replicas streaming from the primary."},
      {"database.sync_configured", kBool, kAny,
       "Synchronous replication is configured (synchronous_standby_names, Patroni "
       "synchronous_mode)."},
      {"database.sync_replicas", kNumber, kMax, "Replicas replicating synchronously."},
      {"database.wal_archiving", kBool, kAny, "WAL archiving is on."},
      // incident
      {"incident.detect_attainment_ratio", kNumber, kMin,
       "Incidents detected within the target time / incidents, within the window."},
      {"incident.locate_attainment_ratio", kNumber, kMin,
       "Incidents located within the target time / incidents, within the window."},
      {"incident.respond_attainment_ratio", kNumber, kMin,
       "Incidents responded to within the target time / incidents, within the window."},
      {"incident.restore_attainment_ratio", kNumber, kMin,
       "Incidents restored within the target time / incidents, within the window."},
      // load balancer
      {"loadbalancer.backends", kNumber, kMax, "Load-balancer backends (server pools) of the system."},
      {"loadbalancer.health_checks", kBool, kAll,
       "Every server of the system's backends is health-checked."},
      {"loadbalancer.min_servers_up", kNumber, kMin,
       "The fewest servers up in any backend of the system: 2 or more means no single server "
       "failure takes a backend down."},
      {"loadbalancer.redispatch", kBool, kAll,
       "Every backend of the system sends a request to another server when its server fails "
       "(HAProxy option redispatch)."},
      {"loadbalancer.servers", kNumber, kMax, "Servers in the system's load-balancer backends."},
      {"loadbalancer.servers_up", kNumber, kMax, "Servers up in the system's backends."},
      // logs
      {"logs.application_logs", kBool, kAny,
       "Application logs of the system are collected: the log store received, within the "
       "window, streams of it that the site marks as application logs (Loki: "
       "application_matchers)."},
      {"logs.collected", kBool, kAny,
       "Application logs of the system are collected centrally: a log store holds streams of it "
       "received recently."},
      {"logs.newest_age_seconds", kNumber, kMin,
       "Seconds since the newest log line of the system was received."},
      {"logs.retention_seconds", kNumber, kMax, "How long the log store keeps the system's logs."},
      {"logs.streams", kNumber, kMax, "Log streams of the system in the log store."},
      // monitoring
      {"monitoring.alert_notifiers", kNumber, kMax,
       "Notification managers the monitoring sends alerts to (Alertmanagers, Zabbix actions)."},
      {"monitoring.alert_rules", kNumber, kMax,
       "Alert rules that apply to the system: Prometheus alerting rules, Zabbix triggers."},
      {"cmdb.monitored_hosts_held_ratio", kNumber, kMin,
       "Share of the hosts the system is monitored on that the CMDB holds as its CIs."},
      {"change.deployment_frequency_per_day", kNumber, kMax,
       "Successful production deployments of the system per day over the window."},
      {"change.lead_time_seconds", kNumber, kMin,
       "Median time from a commit to its successful production deployment (lead time for changes)."},
      {"monitoring.slo_objectives", kNumber, kMax,
       "SLO objectives defined for the system (Sloth or Pyrra objective rules)."},
      {"monitoring.remote_write_plain", kBool, kAny,
       "The monitoring forwards the system's data to remote storage over plain http."},
      {"monitoring.platform_alert_rules", kNumber, kMax,
       "Alert rules of the monitoring that watch no system in particular (a Watchdog, a "
       "TargetDown over every job): the platform's, a hint, never the system's own."},
      {"monitoring.alert_rules_with_runbook_ratio", kNumber, kMax,
       "Alert rules of the system that link a runbook / alert rules of the system."},
      {"monitoring.alert_severities", kList, kUnion, "Severities the system's alert rules carry."},
      {"monitoring.alert_topics", kList, kUnion,
       "What the system's alert rules watch: target_down, errors, latency, saturation, "
       "capacity, ..."},
      {"monitoring.collection_interval_seconds", kNumber, kMin,
       "How often the system's metrics are collected, in seconds."},
      {"monitoring.collection_tls_ratio", kNumber, kMin,
       "Collection endpoints of the system reached over TLS / all of them."},
      {"monitoring.derived_series_rules", kNumber, kMax,
       "Rules that compute new series from collected ones: Prometheus recording rules, Zabbix "
       "calculated items."},
      {"monitoring.host_metrics", kBool, kAny,
       "Host metrics (CPU, memory, disk, network) of the system's hosts are collected."},
      {"monitoring.query_api", kBool, kAny,
       "The monitoring data of the system can be queried through an API that answered now."},
      {"monitoring.remote_storage", kBool, kAny,
       "Monitoring data is also written to remote, long-term storage."},
      {"monitoring.retention_seconds", kNumber, kMax, "How long monitoring data is kept, in seconds."},
      {"monitoring.series", kNumber, kMax, "Series (items) of monitoring data stored."},
      {"monitoring.service_discovery", kList, kUnion,
       "How monitoring targets of the system are discovered automatically: file, consul, "
       "kubernetes, dns, ... (Prometheus service discovery), lld (Zabbix low-level discovery)."},
      {"monitoring.signals", kList, kUnion,
       "Kinds of signal collected of the system: host, process, http, jvm, database, cache, "
       "queue, probe, ..."},
      {"monitoring.slo_rules", kNumber, kMax,
       "Rules that compute a service-level indicator or objective of the system."},
      {"monitoring.targets", kNumber, kMax, "Monitoring targets (scrape targets, hosts) of the system."},
      {"monitoring.targets_up", kNumber, kMax, "Monitoring targets of the system that answer now."},
      {"monitoring.targets_up_ratio", kNumber, kMin,
       "Monitoring targets of the system that answer now / all of them."},
      // probes: synthetic checks from outside
      {"probes.count", kNumber, kMax, "Synthetic probes (blackbox checks) of the system."},
      {"probes.duration_seconds_max", kNumber, kMax, "The slowest probe of the system, in seconds."},
      {"probes.kinds", kList, kUnion, "Kinds of probe of the system: http, tcp, icmp, dns, grpc."},
      {"probes.success_ratio", kNumber, kMin,
       "Probes of the system that succeed now / all of them."},
      // system: the profile, which decides what applies to a system
      {"system.frontend", kBool, kAny,
       "The system is a front-end (user-facing client) system. Criteria marked （仅前端系统考察） "
       "apply only when true."},
      {"system.has_cache", kBool, kAny,
       "The system has a cache tier: 6.6.2 (cache high availability) applies to it."},
      {"system.has_database", kBool, kAny,
       "The system has a database: 6.6.3 (database high availability) applies to it."},
      {"system.runtime", kString, kNewest,
       "What the system runs on: container, vm or bare_metal."},
      {"system.steady_state", kBool, kAll,
       "A steady-state (稳态) system: the standard exempts it from some requirements (service "
       "call relationships in 6.8.2/L2/3). Only when every source says so."},
      // visualization
      {"visualization.dashboard_links", kNumber, kMax,
       "Links between the system's dashboards (drill-down)."},
      {"visualization.dashboards", kNumber, kMax, "Dashboards of the system."},
      {"visualization.data_links", kNumber, kMax,
       "Data links from the system's panels to logs, traces or other views."},
      {"visualization.panel_types", kList, kUnion, "Kinds of panel the system's dashboards use."},
      {"visualization.templated_ratio", kNumber, kMax,
       "Dashboards of the system with template variables / all of them."},
      {"visualization.variables", kList, kUnion,
       "Template variable names of the system's dashboards: the dimensions a view can be "
       "filtered and aggregated by."},
  };
  std::sort(keys.begin(), keys.end(), [](const DomainKeySpec& a, const DomainKeySpec& b) {
    return std::string_view(a.key) < std::string_view(b.key);
  });
  return keys;
}

}  // namespace

const std::vector<DomainKeySpec>& domainKeys() {
  static const std::vector<DomainKeySpec> keys = makeDomainKeys();
  return keys;
}

const DomainKeySpec* findDomainKey(std::string_view key) {
  const auto& keys = domainKeys();
  auto it = std::lower_bound(keys.begin(), keys.end(), key,
                             [](const DomainKeySpec& s, std::string_view k) { return s.key < k; });
  return it != keys.end() && it->key == key ? &*it : nullptr;
}

void deriveDomainEvidence(const std::map<std::string, std::string>& domain_of,
                          std::vector<Evidence>* evidence) {
  if (domain_of.empty()) return;
  // What the collector reported itself under a domain key wins over a derivation.
  std::set<std::pair<std::string, std::string>> direct;
  for (const auto& e : *evidence) {
    if (findDomainKey(e.key)) direct.emplace(e.system, e.key);
  }
  const size_t n = evidence->size();
  for (size_t i = 0; i < n; ++i) {
    auto m = domain_of.find((*evidence)[i].key);
    if (m == domain_of.end()) continue;
    if (!direct.emplace((*evidence)[i].system, m->second).second) continue;
    Evidence d = (*evidence)[i];
    d.source.via = d.key;
    d.key = m->second;
    evidence->push_back(std::move(d));
  }
}

namespace {

bool truthy(const Evidence& e) { return e.value.isBool() && e.value.asBool(); }

std::string label(const Evidence& e) { return e.source.collector + " " + e.value.toString(); }

}  // namespace

Evidence mergeEvidence(Merge merge, const std::vector<const Evidence*>& parts) {
  // Contributions that expired before the newest was observed are out of date: leave them out
  // (unless every one has).
  TimePoint newest{};
  for (const auto* p : parts) newest = std::max(newest, p->observed_at);
  std::vector<const Evidence*> live;
  for (const auto* p : parts) {
    if (!p->expired(newest)) live.push_back(p);
  }
  if (live.empty()) live = parts;
  std::sort(live.begin(), live.end(), [](const Evidence* a, const Evidence* b) {
    return a->source.collector < b->source.collector;
  });
  if (live.size() == 1) return *live.front();

  const Evidence* newest_part = live.front();
  for (const auto* p : live) {
    if (p->observed_at > newest_part->observed_at) newest_part = p;
  }
  // Contributions of another type than the key's (a misdeclared plugin) merge as "newest".
  bool same_type = std::all_of(live.begin(), live.end(), [&](const Evidence* p) {
    return p->value.type() == live.front()->value.type();
  });
  if (!same_type) merge = Merge::kNewest;
  const ValueType type = live.front()->value.type();
  if ((merge == Merge::kAny || merge == Merge::kAll) && type != ValueType::kBool) merge = Merge::kNewest;
  if ((merge == Merge::kMin || merge == Merge::kMax) && type != ValueType::kNumber) merge = Merge::kNewest;
  if (merge == Merge::kUnion && type != ValueType::kList) merge = Merge::kNewest;

  // The deciding contribution, and whether the result rests on every contribution (then it
  // expires with the first of them) or on the deciding one alone.
  const Evidence* chosen = newest_part;
  bool rests_on_all = false;
  switch (merge) {
    case Merge::kNewest:
      break;
    case Merge::kAny:
    case Merge::kAll: {
      const bool decisive = merge == Merge::kAny;  // the value one contribution decides
      auto it = std::find_if(live.begin(), live.end(),
                             [&](const Evidence* p) { return truthy(*p) == decisive; });
      if (it != live.end()) {
        chosen = *it;
      } else {
        rests_on_all = true;
      }
      break;
    }
    case Merge::kMin:
    case Merge::kMax:
      for (const auto* p : live) {
        double v = p->value.asNumber(), best = chosen->value.asNumber();
        if (merge == Merge::kMin ? v < best : v > best) chosen = p;
      }
      break;
    case Merge::kUnion:
      rests_on_all = true;
      break;
  }
  Evidence out = *chosen;
  if (merge == Merge::kUnion) {
    std::set<std::string> all;
    for (const auto* p : live) all.insert(p->value.asList().begin(), p->value.asList().end());
    out.value = StringList(all.begin(), all.end());
  }
  if (rests_on_all) {
    for (const auto* p : live) out.expires_at = std::min(out.expires_at, p->expires_at);
  }
  out.source.merged = std::string(mergeName(merge)) + " of";
  out.source.contributors.clear();
  for (size_t i = 0; i < live.size(); ++i) {
    out.source.merged += (i ? ", " : " ") + label(*live[i]);
    out.source.contributors.push_back(live[i]->source.collector);
  }
  return out;
}

std::string provenanceText(const Evidence& e) {
  if (e.source.via.empty() && e.source.merged.empty()) return "";
  std::string out = " (";
  if (!e.source.via.empty()) out += e.source.collector + " via " + e.source.via;
  if (!e.source.merged.empty()) out += (e.source.via.empty() ? "" : "; ") + e.source.merged;
  return out + ")";
}

}  // namespace opsm::scorer
