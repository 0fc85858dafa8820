#include "collectors/zabbix/zabbix_collector.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/log.h"
#include "common/yaml_util.h"

namespace opsm::collectors::zabbix {

namespace {

constexpr const char* kPrefix = "monitoring.zabbix.";
constexpr const char* kAlertPrefix = "alerting.zabbix.";

// Trigger severities (priority 0..5), as the frontend names them.
const char* severityName(int p) {
  static const char* kNames[] = {"not_classified", "information", "warning",
                                 "average",        "high",        "disaster"};
  return p >= 0 && p <= 5 ? kNames[p] : "not_classified";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A media type as a channel kind: email, sms, script, or a webhook by its name (PagerDuty ->
// pagerduty, "MS Teams" -> msteams), the names Alertmanager integrations go by.
std::string channelOf(int type, const std::string& name) {
  switch (type) {
    case 0:
      return "email";
    case 1:
      return "script";
    case 2:
      return "sms";
    case 4: {
      std::string out;
      for (char c : lower(name)) {
        if (std::isalnum(static_cast<unsigned char>(c))) out += c;
      }
      return out.empty() ? "webhook" : out;
    }
  }
  return "other";
}

int intOf(const rapidjson::Value& obj, const char* name, int fallback = 0) {
  const auto* v = member(obj, name);
  if (!v) return fallback;
  if (v->IsInt()) return v->GetInt();
  if (v->IsString()) {
    try {
      return std::stoi(v->GetString());
    } catch (const std::exception&) {
    }
  }
  return fallback;
}

}  // namespace

std::optional<double> parseZabbixSeconds(const std::string& text) {
  std::string s = text.substr(0, text.find(';'));
  if (s.empty() || s.find('{') != std::string::npos) return std::nullopt;
  double mult = 1;
  switch (s.back()) {
    case 's': mult = 1; s.pop_back(); break;
    case 'm': mult = 60; s.pop_back(); break;
    case 'h': mult = 3600; s.pop_back(); break;
    case 'd': mult = 86400; s.pop_back(); break;
    case 'w': mult = 604800; s.pop_back(); break;
    default: break;
  }
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return std::nullopt;
  }
  if (s.size() > 12) return std::nullopt;
  return std::stod(s) * mult;
}

std::set<std::string> triggerTopics(const std::string& expression) {
  static const std::vector<std::pair<const char*, Regex>> kTopics = [] {
    auto re = [](const char* s) { return *Regex::compile(s, Regex::Case::kInsensitive); };
    return std::vector<std::pair<const char*, Regex>>{
        {"target_down", re(R"(nodata\s*\(|agent\.ping|icmpping[,\]\)]|icmpping$|zabbix\[host,agent,available\]|net\.tcp\.service\[)")},
        {"capacity", re(R"(vfs\.fs\.|vm\.memory|system\.cpu|system\.swap|inode|pused|pfree)")},
        {"prediction", re(R"(forecast\s*\(|timeleft\s*\()")},
        {"anomaly", re(R"(trendstl\s*\(|baselinedev\s*\(|baselinewma\s*\(|stddevpop\s*\(|stddevsamp\s*\()")},
        {"latency", re(R"(icmppingsec|web\.test\.time|\.time[\[,/]|latency|response_?time)")},
        {"errors", re(R"(web\.test\.(fail|error|rspcode)|errors?[\[\]_.,]|5\d\d|failed)")},
        {"probe", re(R"(icmpping|web\.test\.|net\.tcp\.service)")},
    };
  }();
  std::set<std::string> out;
  for (const auto& [topic, re] : kTopics) {
    if (re.partialMatch(expression)) out.insert(topic);
  }
  return out;
}

std::string itemSignal(const std::string& key) {
  static const std::vector<std::pair<const char*, const char*>> kPrefixes = {
      {"system.cpu", "node"},        {"vm.memory", "node"},          {"vfs.fs", "node"},
      {"net.if", "node"},            {"system.swap", "node"},        {"log[", "logs"},
      {"logrt[", "logs"},            {"log.count[", "logs"},         {"eventlog[", "logs"},
      // web scenarios are synthetic checks: response time and failures of a probe, not the
      // service's own latency, errors and traffic
      {"web.test", "probe"},         {"web.page", "probe"},          {"icmpping", "probe"},
      {"net.tcp.service", "probe"},  {"net.udp.service", "probe"},   {"pgsql.", "database"},
      {"mysql.", "database"},        {"db.odbc", "database"},        {"oracle.", "database"},
      {"redis.", "cache"},           {"memcached.", "cache"},        {"jmx[", "middleware"},
      {"rabbitmq.", "middleware"},   {"kafka.", "middleware"},       {"docker.", "container"},
      {"kube.", "container"},        {"haproxy.", "load_balancer"},  {"nginx.", "load_balancer"},
  };
  for (const auto& [prefix, kind] : kPrefixes) {
    if (key.rfind(prefix, 0) == 0) return kind;
  }
  return "";
}

ZabbixCollector::ZabbixCollector(ZabbixConfig config)
    : config_(std::move(config)), http_(config_.http), http_bearer_([this] {
        HttpOptions o = config_.http;
        o.bearer_token = config_.token;
        return o;
      }()) {}

Result<std::vector<scorer::Fact>> ZabbixCollector::collect(const CollectContext& ctx) {
  const std::string endpoint = config_.url + "/api_jsonrpc.php";
  const std::string where = "Zabbix " + redactUrl(endpoint);
  int next_id = 1;
  std::string version;
  bool bearer = false;  // decided by the server's version, below
  // One JSON-RPC call. The token goes in the request's `auth` field for Zabbix 6.0 and 6.2,
  // in an `Authorization: Bearer` header from 6.4 (which 7.2 requires); it never appears in
  // errors or evidence.
  auto call = [&](const char* method, const std::string& params,
                  bool auth = true) -> Result<rapidjson::Document> {
    std::string body = std::string(R"({"jsonrpc":"2.0","method":")") + method +
                       R"(","params":)" + params + R"(,"id":)" + std::to_string(next_id++);
    if (auth && !bearer) {
      rapidjson::StringBuffer tok;
      rapidjson::Writer<rapidjson::StringBuffer> w(tok);
      w.String(config_.token.c_str(), static_cast<rapidjson::SizeType>(config_.token.size()));
      body += std::string(R"(,"auth":)") + tok.GetString();
    }
    body += "}";
    auto resp = (auth && bearer ? http_bearer_ : http_)
                    .post(endpoint, body, "application/json-rpc", ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, where + " " + method);
    if (!doc) return doc.error();
    if (!doc->IsObject()) return makeError(ErrorCode::kBadResponse, where + " " + method + ": not a JSON-RPC answer");
    if (const auto* err = objectMember(*doc, "error")) {
      std::string data = stringMember(*err, "data"), message = stringMember(*err, "message");
      const bool denied = data.find("authori") != std::string::npos ||
                          data.find("Session terminated") != std::string::npos ||
                          data.find("API token") != std::string::npos;
      return makeError(denied ? ErrorCode::kUnauthenticated : ErrorCode::kBadResponse,
                       where + " " + method + ": " + printable(message + " " + data).substr(0, 300));
    }
    const auto* result = member(*doc, "result");
    if (!result) return makeError(ErrorCode::kBadResponse, where + " " + method + ": no result");
    rapidjson::Document out;
    out.CopyFrom(*result, out.GetAllocator());
    return out;
  };
  auto version_doc = call("apiinfo.version", "{}", false);
  if (!version_doc) return version_doc.error();
  if (version_doc->IsString()) version = version_doc->GetString();
  int major = 0, minor = 0;
  std::sscanf(version.c_str(), "%d.%d", &major, &minor);
  if (major < 6) {
    return makeError(ErrorCode::kBadResponse,
                     where + ": Zabbix " + printable(version) + " is not supported (6.0 or later)");
  }
  bearer = major > 6 || minor >= 4;
  // 6.2 renamed host groups in the API (selectGroups -> selectHostGroups).
  const bool new_groups = major > 6 || minor >= 2;
  const char* select_groups = new_groups ? "selectHostGroups" : "selectGroups";
  const char* groups_key = new_groups ? "hostgroups" : "groups";

  // Hosts and their systems.
  auto hosts = call("host.get", std::string(R"({"output":["hostid","host","tls_connect","maintenance_status"],)") +
                                    R"("filter":{"status":"0"},"selectTags":["tag","value"],)" +
                                    "\"" + select_groups + R"(":["groupid","name"],)" +
                                    R"("selectInterfaces":["type","main","available"]})");
  if (!hosts) return hosts.error();
  if (!hosts->IsArray()) return makeError(ErrorCode::kBadResponse, where + " host.get: not a list");
  struct PerSystem {
    int hosts = 0, available = 0, known_availability = 0, tls = 0;
    int items = 0, calculated = 0, lld = 0;
    double min_delay = -1, max_history = -1;
    bool host_metrics = false;
    std::set<std::string> signals;
    int triggers = 0, triggers_with_url = 0, dependencies = 0, problems = 0;
    std::set<std::string> severities, topics;
    std::set<std::string> groupids, hostids;
    std::set<std::string> channels;
    int actions = 0;
    bool dedicated = false, escalation = false;
    int maintenances = 0;
  };
  std::map<std::string, PerSystem> systems;
  std::map<std::string, std::string> system_of_host;
  for (const auto& h : hosts->GetArray()) {
    if (!h.IsObject()) continue;
    std::string system;
    if (!config_.system_tag.empty()) {
      if (const auto* tags = arrayMember(h, "tags")) {
        for (const auto& t : tags->GetArray()) {
          if (t.IsObject() && stringMember(t, "tag") == config_.system_tag) system = stringMember(t, "value");
        }
      }
    }
    std::vector<std::string> groupids;
    if (const auto* groups = arrayMember(h, groups_key)) {
      for (const auto& g : groups->GetArray()) {
        if (!g.IsObject()) continue;
        groupids.push_back(stringMember(g, "groupid"));
        std::string group_system;
        if (system.empty() &&
            config_.hostgroup_regex.firstGroup(stringMember(g, "name"), &group_system)) {
          system = group_system;
        }
      }
    }
    if (system.empty()) continue;
    const std::string hostid = stringMember(h, "hostid");
    system_of_host[hostid] = system;
    PerSystem& p = systems[system];
    ++p.hosts;
    p.hostids.insert(hostid);
    p.groupids.insert(groupids.begin(), groupids.end());
    p.tls += intOf(h, "tls_connect", 1) != 1;  // 1: no encryption; 2 PSK; 4 certificate
    // Availability of the main interfaces: 1 available, 2 unavailable, 0 unknown.
    int state = 0;
    if (const auto* ifs = arrayMember(h, "interfaces")) {
      for (const auto& i : ifs->GetArray()) {
        if (!i.IsObject() || intOf(i, "main") != 1) continue;
        int a = intOf(i, "available");
        if (a == 2) state = 2;
        if (a == 1 && state == 0) state = 1;
      }
    }
    if (state != 0) ++p.known_availability;
    if (state == 1) ++p.available;
  }
  std::string hostids_json = "[";
  for (const auto& [id, _] : system_of_host) hostids_json += (hostids_json.size() > 1 ? "," : "") + ("\"" + id + "\"");
  hostids_json += "]";

  if (!system_of_host.empty()) {
    // Items: what is collected and how often, how long it is kept.
    auto items = call("item.get", R"({"output":["hostid","key_","type","delay","history","lastclock"],"hostids":)" +
                                      hostids_json + R"(,"monitored":true,"filter":{"status":"0"}})");
    if (!items) return items.error();
    if (!items->IsArray()) return makeError(ErrorCode::kBadResponse, where + " item.get: not a list");
    const double now = toSeconds(ctx.now);
    for (const auto& i : items->GetArray()) {
      if (!i.IsObject()) continue;
      auto sys = system_of_host.find(stringMember(i, "hostid"));
      if (sys == system_of_host.end()) continue;
      PerSystem& p = systems[sys->second];
      ++p.items;
      const std::string key = stringMember(i, "key_");
      const int type = intOf(i, "type");
      if (type == 15) ++p.calculated;
      auto delay = parseZabbixSeconds(stringMember(i, "delay"));
      if (delay && *delay > 0) p.min_delay = p.min_delay < 0 ? *delay : std::min(p.min_delay, *delay);
      if (auto history = parseZabbixSeconds(stringMember(i, "history"))) p.max_history = std::max(p.max_history, *history);
      std::string signal = itemSignal(key);
      // A signal counts when the item has a value: configured but never collected is not
      // collection.
      const double last = intOf(i, "lastclock");
      const bool fresh = last > 0 && now - last < 3600;
      if (!signal.empty() && fresh) p.signals.insert(signal);
      if (signal == "node" && fresh) p.host_metrics = true;
    }
    auto lld = call("discoveryrule.get", R"({"output":["hostid"],"hostids":)" + hostids_json +
                                             R"(,"filter":{"status":"0"}})");
    if (!lld) return lld.error();
    if (lld->IsArray()) {
      for (const auto& r : lld->GetArray()) {
        auto sys = r.IsObject() ? system_of_host.find(stringMember(r, "hostid")) : system_of_host.end();
        if (sys != system_of_host.end()) ++systems[sys->second].lld;
      }
    }
    // Triggers: the system's alert rules.
    auto triggers = call("trigger.get", R"({"output":["triggerid","priority","url","expression"],"hostids":)" +
                                            hostids_json +
                                            R"(,"monitored":true,"filter":{"status":"0"},"expandExpression":true,)"
                                            R"("selectHosts":["hostid"],"selectDependencies":["triggerid"]})");
    if (!triggers) return triggers.error();
    if (!triggers->IsArray()) return makeError(ErrorCode::kBadResponse, where + " trigger.get: not a list");
    std::map<std::string, std::string> system_of_trigger;
    for (const auto& t : triggers->GetArray()) {
      if (!t.IsObject()) continue;
      std::set<std::string> of;
      if (const auto* hs = arrayMember(t, "hosts")) {
        for (const auto& h : hs->GetArray()) {
          auto sys = h.IsObject() ? system_of_host.find(stringMember(h, "hostid")) : system_of_host.end();
          if (sys != system_of_host.end()) of.insert(sys->second);
        }
      }
      for (const auto& system : of) {
        PerSystem& p = systems[system];
        ++p.triggers;
        p.triggers_with_url += !stringMember(t, "url").empty();
        p.severities.insert(severityName(intOf(t, "priority")));
        auto topics = triggerTopics(stringMember(t, "expression"));
        p.topics.insert(topics.begin(), topics.end());
        if (const auto* deps = arrayMember(t, "dependencies")) p.dependencies += static_cast<int>(deps->Size());
        system_of_trigger[stringMember(t, "triggerid")] = system;
      }
    }
    // Problems now (not suppressed by maintenance).
    auto problems = call("problem.get", R"({"output":["objectid","suppressed"],"source":0,"object":0,"hostids":)" +
                                            hostids_json + "}");
    if (!problems) return problems.error();
    if (problems->IsArray()) {
      for (const auto& pr : problems->GetArray()) {
        if (!pr.IsObject() || intOf(pr, "suppressed") != 0) continue;
        auto sys = system_of_trigger.find(stringMember(pr, "objectid"));
        if (sys != system_of_trigger.end()) ++systems[sys->second].problems;
      }
    }
    // Maintenance periods covering a system's hosts or groups, active now.
    auto maint = call("maintenance.get", std::string(R"({"output":["active_since","active_till"],"selectHosts":["hostid"],")") +
                                             select_groups + R"(":["groupid"]})");
    if (!maint) return maint.error();
    if (maint->IsArray()) {
      for (const auto& m : maint->GetArray()) {
        if (!m.IsObject()) continue;
        if (now < intOf(m, "active_since") || now > intOf(m, "active_till")) continue;
        std::set<std::string> covered;
        if (const auto* hs = arrayMember(m, "hosts")) {
          for (const auto& h : hs->GetArray()) {
            auto sys = h.IsObject() ? system_of_host.find(stringMember(h, "hostid")) : system_of_host.end();
            if (sys != system_of_host.end()) covered.insert(sys->second);
          }
        }
        if (const auto* gs = arrayMember(m, groups_key)) {
          for (const auto& g : gs->GetArray()) {
            for (auto& [system, p] : systems) {
              if (g.IsObject() && p.groupids.count(stringMember(g, "groupid"))) covered.insert(system);
            }
          }
        }
        for (const auto& s : covered) ++systems[s].maintenances;
      }
    }
  }

  // Alert routing: enabled trigger actions, the media types their messages use (directly, or
  // "all media types" of the users they address), escalations.
  auto media = call("mediatype.get", R"({"output":["mediatypeid","name","type","status"]})");
  if (!media) return media.error();
  std::map<std::string, std::string> channel_of_media;  // enabled media types only
  if (media->IsArray()) {
    for (const auto& m : media->GetArray()) {
      if (m.IsObject() && intOf(m, "status") == 0) {
        channel_of_media[stringMember(m, "mediatypeid")] = channelOf(intOf(m, "type"), stringMember(m, "name"));
      }
    }
  }
  auto users = call("user.get", R"({"output":["userid"],"selectMedias":["mediatypeid","active"],"selectUsrgrps":["usrgrpid"]})");
  if (!users) return users.error();
  std::map<std::string, std::set<std::string>> media_of_user, users_of_group;
  if (users->IsArray()) {
    for (const auto& u : users->GetArray()) {
      if (!u.IsObject()) continue;
      const std::string id = stringMember(u, "userid");
      if (const auto* ms = arrayMember(u, "medias")) {
        for (const auto& m : ms->GetArray()) {
          if (m.IsObject() && intOf(m, "active") == 0) media_of_user[id].insert(stringMember(m, "mediatypeid"));
        }
      }
      if (const auto* gs = arrayMember(u, "usrgrps")) {
        for (const auto& g : gs->GetArray()) {
          if (g.IsObject()) users_of_group[stringMember(g, "usrgrpid")].insert(id);
        }
      }
    }
  }
  auto actions = call("action.get", R"({"output":["actionid","name","status"],"filter":{"eventsource":"0","status":"0"},)"
                                    R"("selectOperations":"extend","selectFilter":"extend"})");
  if (!actions) return actions.error();
  if (actions->IsArray()) {
    for (const auto& a : actions->GetArray()) {
      if (!a.IsObject()) continue;
      // Which systems the action selects: by host group, host or tag value conditions
      // (operator "equals"); an action without such conditions covers every system.
      std::set<std::string> selected;
      // The systems a condition names alone: a host group whose hosts are one system's only,
      // a host, a system tag value. A group shared by many systems ("Linux servers") selects
      // them all but is dedicated to none.
      std::set<std::string> dedicated_to;
      bool scoped = false;
      if (const auto* filter = objectMember(a, "filter")) {
        if (const auto* conds = arrayMember(*filter, "conditions")) {
          for (const auto& c : conds->GetArray()) {
            if (!c.IsObject()) continue;
            const int type = intOf(c, "conditiontype"), op = intOf(c, "operator");
            const std::string value = stringMember(c, "value"), value2 = stringMember(c, "value2");
            if (type != 0 && type != 1 && type != 26) continue;
            scoped = true;
            if (op != 0) continue;
            std::set<std::string> named;
            for (auto& [system, p] : systems) {
              if ((type == 0 && p.groupids.count(value)) || (type == 1 && p.hostids.count(value)) ||
                  (type == 26 && !config_.system_tag.empty() && value2 == config_.system_tag &&
                   value == system)) {
                named.insert(system);
              }
            }
            selected.insert(named.begin(), named.end());
            if (named.size() == 1) dedicated_to.insert(*named.begin());
          }
        }
      }
      if (!scoped) {
        for (const auto& [system, _] : systems) selected.insert(system);
      }
      std::set<std::string> channels;
      std::set<int> steps;
      bool open_ended = false;
      if (const auto* ops = arrayMember(a, "operations")) {
        for (const auto& op : ops->GetArray()) {
          if (!op.IsObject()) continue;
          steps.insert(intOf(op, "esc_step_from", 1));
          if (intOf(op, "esc_step_to", 1) == 0 || intOf(op, "esc_step_to", 1) > intOf(op, "esc_step_from", 1)) {
            open_ended = true;
          }
          if (intOf(op, "operationtype") != 0) continue;  // 0: send message
          const auto* msg = objectMember(op, "opmessage");
          const std::string mediatype = msg ? stringMember(*msg, "mediatypeid") : "0";
          std::set<std::string> recipients;
          if (const auto* us = arrayMember(op, "opmessage_usr")) {
            for (const auto& u : us->GetArray()) {
              if (u.IsObject()) recipients.insert(stringMember(u, "userid"));
            }
          }
          if (const auto* gs = arrayMember(op, "opmessage_grp")) {
            for (const auto& g : gs->GetArray()) {
              if (!g.IsObject()) continue;
              const auto& members = users_of_group[stringMember(g, "usrgrpid")];
              recipients.insert(members.begin(), members.end());
            }
          }
          // A message reaches a recipient through a media type the recipient has and that
          // is enabled: the one named, or any ("0": all media types).
          for (const auto& user : recipients) {
            for (const auto& m : media_of_user[user]) {
              if (mediatype != "0" && m != mediatype) continue;
              if (auto ch = channel_of_media.find(m); ch != channel_of_media.end()) channels.insert(ch->second);
            }
          }
        }
      }
      for (const auto& system : selected) {
        PerSystem& p = systems[system];
        ++p.actions;
        p.channels.insert(channels.begin(), channels.end());
        // Dedicated: a condition names this system alone, and the action notifies someone.
        if (dedicated_to.count(system) && !channels.empty()) p.dedicated = true;
        if (steps.size() > 1 || open_ended) p.escalation = true;
      }
    }
  }

  std::vector<scorer::Fact> facts;
  const std::string loc = redactUrl(endpoint);
  for (const auto& entry : systems) {
    const auto& system = entry.first;  // not a structured binding: its lambdas capture it
    const auto& p = entry.second;
    auto add = [&](const char* prefix, const char* key, scorer::Value v, const char* method) {
      facts.push_back(scorer::Fact{prefix + std::string(key), system, std::move(v), loc + " " + method});
    };
    add(kPrefix, "hosts", p.hosts, "host.get");
    add(kPrefix, "hosts_available", p.available, "host.get");
    if (p.known_availability > 0) {
      add(kPrefix, "hosts_available_ratio", static_cast<double>(p.available) / p.known_availability, "host.get");
    }
    add(kPrefix, "hosts_encrypted_ratio", p.hosts ? static_cast<double>(p.tls) / p.hosts : 0.0, "host.get");
    add(kPrefix, "items", p.items, "item.get");
    add(kPrefix, "calculated_items", p.calculated, "item.get");
    add(kPrefix, "host_metrics", p.host_metrics, "item.get");
    add(kPrefix, "signals", scorer::StringList(p.signals.begin(), p.signals.end()), "item.get");
    if (p.min_delay > 0) add(kPrefix, "min_update_interval_seconds", p.min_delay, "item.get");
    if (p.max_history >= 0) add(kPrefix, "max_history_seconds", p.max_history, "item.get");
    add(kPrefix, "discovery", scorer::StringList(p.lld > 0 ? std::vector<std::string>{"lld"} : std::vector<std::string>{}),
        "discoveryrule.get");
    add(kPrefix, "triggers", p.triggers, "trigger.get");
    if (p.triggers > 0) {
      add(kPrefix, "triggers_with_url_ratio", static_cast<double>(p.triggers_with_url) / p.triggers, "trigger.get");
    }
    add(kPrefix, "trigger_severities", scorer::StringList(p.severities.begin(), p.severities.end()), "trigger.get");
    add(kPrefix, "trigger_topics", scorer::StringList(p.topics.begin(), p.topics.end()), "trigger.get");
    add(kPrefix, "api_ok", true, "apiinfo.version");
    add(kPrefix, "actions", p.actions, "action.get");
    add(kAlertPrefix, "trigger_dependencies", p.dependencies, "trigger.get");
    add(kAlertPrefix, "channels", scorer::StringList(p.channels.begin(), p.channels.end()),
        "action.get, user.get, mediatype.get");
    add(kAlertPrefix, "dedicated_action", p.dedicated, "action.get");
    add(kAlertPrefix, "escalation", p.escalation, "action.get");
    add(kAlertPrefix, "maintenances_active", p.maintenances, "maintenance.get");
    add(kAlertPrefix, "problems", p.problems, "problem.get");
  }
  return facts;
}

namespace {

class ZabbixFactory : public CollectorFactory {
 public:
  std::string type() const override { return "zabbix"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    auto keys = describeKeys(kPrefix, type(), {
        {"hosts", ValueType::kNumber, "Monitored hosts of the system (host.get, status enabled).", "monitoring.targets"},
        {"hosts_available", ValueType::kNumber, "Hosts whose main interface is available now (interface `available` = 1).", "monitoring.targets_up"},
        {"hosts_available_ratio", ValueType::kNumber, "Available hosts / hosts whose availability is known; absent when none is.", "monitoring.targets_up_ratio"},
        {"hosts_encrypted_ratio", ValueType::kNumber, "Hosts the server connects to with TLS (PSK or certificate) / hosts.", "monitoring.collection_tls_ratio"},
        {"items", ValueType::kNumber, "Enabled items of the system's hosts.", "monitoring.series"},
        {"calculated_items", ValueType::kNumber, "Calculated items (type 15): series computed from others.", "monitoring.derived_series_rules"},
        {"host_metrics", ValueType::kBool, "An item of host metrics (system.cpu, vm.memory, vfs.fs, net.if, system.swap) of the system got a value in the last hour.", "monitoring.host_metrics"},
        {"signals", ValueType::kList, "Kinds of signal collected, by the keys of items that got a value in the last hour: node, logs (log[, logrt[, eventlog[), probe (icmpping, net.tcp.service, and web scenarios web.test and web.page: synthetic checks, not the service's own latency and traffic), database, cache, middleware, container, load_balancer.", "monitoring.signals"},
        {"min_update_interval_seconds", ValueType::kNumber, "The shortest update interval of the system's items (macros and flexible intervals left out).", "monitoring.collection_interval_seconds"},
        {"max_history_seconds", ValueType::kNumber, "The longest history storage period of the system's items.", "monitoring.retention_seconds"},
        {"discovery", ValueType::kList, "[lld] when the system's hosts have enabled low-level discovery rules.", "monitoring.service_discovery"},
        {"triggers", ValueType::kNumber, "Enabled triggers on the system's hosts.", "monitoring.alert_rules"},
        {"triggers_with_url_ratio", ValueType::kNumber, "Triggers with a URL (a runbook) / triggers; absent without triggers.", "monitoring.alert_rules_with_runbook_ratio"},
        {"trigger_severities", ValueType::kList, "Distinct severities of the triggers: not_classified, information, warning, average, high, disaster.", "monitoring.alert_severities"},
        {"trigger_topics", ValueType::kList, "What the triggers watch, by their expanded expressions: target_down (nodata, agent.ping, icmpping), capacity, prediction (forecast, timeleft), anomaly (trendstl, baselinedev), latency, errors, probe.", "monitoring.alert_topics"},
        {"api_ok", ValueType::kBool, "The API answered; only for systems with hosts.", "monitoring.query_api"},
        {"actions", ValueType::kNumber, "Enabled trigger actions that cover the system's problems.", "monitoring.alert_notifiers"},
    });
    auto alerting = describeKeys(kAlertPrefix, type(), {
        {"channels", ValueType::kList, "Channel kinds the system's problems reach: the enabled media types (email, sms, script, or a webhook by name: pagerduty, slack, ...) of the users addressed by the message operations of the actions that cover them.", "alerting.notification_channels"},
        {"dedicated_action", ValueType::kBool, "An enabled trigger action that sends to a channel has a condition naming the system alone: a host group no other system has hosts in, one of its hosts, or its system tag value (a group shared with other systems is not dedicated).", "alerting.dedicated_route"},
        {"escalation", ValueType::kBool, "An action covering the system has escalation steps (operations of several steps, or repeating).", "alerting.escalation"},
        {"trigger_dependencies", ValueType::kNumber, "Trigger dependencies of the system's triggers: a dependent trigger is suppressed while the one it depends on fires.", "alerting.inhibit_rules"},
        {"maintenances_active", ValueType::kNumber, "Maintenance periods active now covering the system's hosts or groups.", "alerting.maintenance_windows"},
        {"problems", ValueType::kNumber, "Problems of the system's triggers now, not suppressed.", "alerting.active_problems"},
    });
    keys.insert(keys.end(), alerting.begin(), alerting.end());
    return keys;
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "zabbix",
        {
            urlKey("url", "The frontend, e.g. `https://zabbix.example.com` (or its "
                          "`/api_jsonrpc.php`).")
                .isRequired(),
            secretKey("token", "A Zabbix API token (a user with read access to the hosts).").isRequired(),
            stringKey("system_tag", "A host tag whose value names the system.").nonEmpty(),
            stringKey("hostgroup_regex", "A regular expression (RE2) whose first capture group in a "
                                         "host group's name names the system.")
                .nonEmpty(),
            tlsKey(),
        },
        {{{"system_tag", "hostgroup_regex"},
          false,
          "set system_tag (a host tag naming the system) or hostgroup_regex (its first group "
          "names the system)"}});
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    ZabbixConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.url = withoutTrailingSlashes(c.url);
    if (c.url.size() > 17 && c.url.compare(c.url.size() - 17, 17, "/api_jsonrpc.php") == 0) {
      c.url.resize(c.url.size() - 17);
    }
    auto token = cfg.secret("token");
    if (!token) return token.error();
    c.token = *token;
    c.system_tag = cfg.string("system_tag");
    if (cfg.has("hostgroup_regex")) {
      auto compiled = Regex::compile(cfg.string("hostgroup_regex"));
      if (!compiled) return cfg.error("hostgroup_regex", compiled.error().message);
      if (compiled->groups() < 1) {
        return cfg.error("hostgroup_regex", "needs a capture group: the system's name");
      }
      c.hostgroup_regex = std::move(*compiled);
    }
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    return std::unique_ptr<Collector>(new ZabbixCollector(std::move(c)));
  }
};

}  // namespace

Status registerZabbix(Registry& registry) { return registry.add(std::make_unique<ZabbixFactory>()); }

}  // namespace opsm::collectors::zabbix
