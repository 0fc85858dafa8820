#pragma once

#include <optional>
#include <set>
#include <string>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"
#include "common/regex.h"

namespace opsm::collectors::zabbix {

struct ZabbixConfig {
  std::string name;
  std::string url;    // the frontend; the API is <url>/api_jsonrpc.php
  std::string token;  // API token (Administration > API tokens); never logged
  // Which system a host belongs to: the value of its tag `system_tag`, else the first
  // capture group of `hostgroup_regex` on one of its host groups (unset: a regex without a
  // group, which captures nothing). Hosts of no system are left out.
  std::string system_tag;
  Regex hostgroup_regex;
  HttpOptions http;
};

// "30s", "1m", "2h", "90d", "1w" (Zabbix time suffixes; a bare number is seconds; a flexible
// interval "1m;wd1-5h9-18" counts by its first part). nullopt for a user macro or garbage.
std::optional<double> parseZabbixSeconds(const std::string& text);

// What a trigger expression watches (topics shared with Prometheus alert rules: target_down,
// errors, latency, capacity, prediction, anomaly, probe), by its functions and item keys.
std::set<std::string> triggerTopics(const std::string& expression);

// The kind of signal an item provides, by its key (node, logs, http, probe, database,
// middleware, container, load_balancer); "" for none.
std::string itemSignal(const std::string& key);

// Zabbix 6.0+ through its JSON-RPC API: per system, its hosts and their availability, items,
// triggers and their severities, the actions and media types its problems reach, escalations,
// maintenance and problems; mapped to the monitoring.* and alerting.* domain keys
// (docs/collectors/zabbix.md).
class ZabbixCollector : public Collector {
 public:
  explicit ZabbixCollector(ZabbixConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  ZabbixConfig config_;
  HttpClient http_;         // without credentials (apiinfo.version; 6.0/6.2: token in `auth`)
  HttpClient http_bearer_;  // Zabbix 6.4+: the token in an Authorization: Bearer header
};

Status registerZabbix(Registry& registry);

}  // namespace opsm::collectors::zabbix
