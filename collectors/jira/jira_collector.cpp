#include "collectors/jira/jira_collector.h"

#include <algorithm>
#include <optional>
#include <set>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::jira {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::optional<double> timeField(const rapidjson::Value& fields, const std::string& id) {
  const auto* v = member(fields, id.c_str());
  if (!v || !v->IsString()) return std::nullopt;
  auto t = parseTimestamp(v->GetString());
  if (!t) return std::nullopt;
  return toSeconds(*t);
}

}  // namespace

JiraCollector::JiraCollector(JiraConfig config) : config_(std::move(config)), http_(config_.http) {}

Result<std::vector<rapidjson::Document>> JiraCollector::search(
    const std::string& jql, const std::vector<std::string>& fields,
    const CollectContext& ctx) const {
  std::vector<rapidjson::Document> out;
  std::string path = config_.cloud ? "/rest/api/3/search/jql" : "/rest/api/2/search";
  std::string base = config_.url + path + "?jql=" + urlEncode(jql) +
                     "&fields=" + urlEncode(join(fields)) +
                     "&maxResults=" + std::to_string(config_.page_size);
  std::string token;  // cloud: nextPageToken
  long long start_at = 0;  // data center: startAt
  for (int page = 0;; ++page) {
    if (page >= config_.max_pages) {
      return makeError(ErrorCode::kBadResponse, "Jira " + path + ": more than " +
                                                    std::to_string(config_.max_pages) + " pages");
    }
    std::string url = base;
    if (config_.cloud && !token.empty()) url += "&nextPageToken=" + urlEncode(token);
    if (!config_.cloud) url += "&startAt=" + std::to_string(start_at);
    auto resp = http_.get(url, ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "Jira " + path);
    if (!doc) return doc.error();
    const auto* issues = doc->IsObject() ? arrayMember(*doc, "issues") : nullptr;
    if (!issues) {
      return makeError(ErrorCode::kBadResponse, "Jira " + path + ": no issues list in the answer");
    }
    size_t got = 0;
    for (auto& issue : issues->GetArray()) {
      if (!issue.IsObject()) continue;
      ++got;
      rapidjson::Document one;
      one.CopyFrom(issue, one.GetAllocator());
      out.push_back(std::move(one));
    }
    if (config_.cloud) {
      // The last page has no nextPageToken (or isLast: true).
      const auto* last = member(*doc, "isLast");
      std::string next = stringMember(*doc, "nextPageToken");
      if ((last && last->IsBool() && last->GetBool()) || next.empty()) break;
      if (next == token) {
        return makeError(ErrorCode::kBadResponse, "Jira " + path + ": nextPageToken repeats");
      }
      token = next;
    } else {
      const auto* total = member(*doc, "total");
      start_at += static_cast<long long>(got);
      if (got == 0 || !total || !total->IsNumber() || start_at >= total->GetInt64()) break;
    }
  }
  return out;
}

std::vector<std::string> JiraCollector::systemsOf(const rapidjson::Value& fields) const {
  std::vector<std::string> names;
  const auto* v = member(fields, config_.system_field.c_str());
  auto take = [&](const rapidjson::Value& x) {
    std::string s;
    if (x.IsString()) s = x.GetString();
    if (x.IsObject()) s = stringMember(x, "name", stringMember(x, "value"));
    if (s.empty() || s.rfind(config_.system_prefix, 0) != 0) return;
    s = s.substr(config_.system_prefix.size());
    if (!s.empty()) names.push_back(s);
  };
  if (v && v->IsArray()) {
    for (const auto& x : v->GetArray()) take(x);
  } else if (v) {
    take(*v);
  }
  return names;
}

Result<std::vector<scorer::Fact>> JiraCollector::collect(const CollectContext& ctx) {
  const std::string window =
      " AND created >= -" + std::to_string(std::max<long long>(1, toSeconds(config_.window) / 60)) + "m";
  std::vector<scorer::Fact> facts;
  auto add = [&](const std::string& system, const std::string& key, scorer::Value v,
                 const std::string& loc) {
    facts.push_back(scorer::Fact{key, system, std::move(v), loc});
  };
  std::set<std::string> incident_keys;
  if (!config_.incidents_jql.empty()) {
    std::vector<std::string> fields{config_.system_field, "resolutiondate"};
    for (const auto& [_, f] : config_.time_fields) fields.push_back(f);
    std::sort(fields.begin(), fields.end());
    fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
    auto issues = search("(" + config_.incidents_jql + ")" + window, fields, ctx);
    if (!issues) return issues.error();
    struct Stats {
      int incidents = 0, resolved = 0;
      double restore_total = 0;
      int met[4] = {0, 0, 0, 0}, measured[4] = {0, 0, 0, 0};
    };
    // The incidents of the window, by key: a change linked to one of them failed.
    std::map<std::string, Stats> by_system;
    by_system[scorer::kAnySystem];  // a system without issues: the default
    auto tf = [&](const rapidjson::Value& f, const char* which) -> std::optional<double> {
      auto it = config_.time_fields.find(which);
      if (it == config_.time_fields.end()) return std::nullopt;
      return timeField(f, it->second);
    };
    for (const auto& issue : *issues) {
      const auto* f = objectMember(issue, "fields");
      if (!f) continue;
      if (std::string key = stringMember(issue, "key"); !key.empty()) incident_keys.insert(key);
      auto started = tf(*f, "started"), detected = tf(*f, "detected"),
           responded = tf(*f, "responded"), located = tf(*f, "located"),
           restored = tf(*f, "restored");
      for (const auto& system : systemsOf(*f)) {
        Stats& s = by_system[system];
        ++s.incidents;
        // A moment missing, or one before the moment it is measured from (a field filled
        // in wrongly), measures nothing: unknown, not met and not missed.
        auto measure = [&](int i, std::optional<double> from, std::optional<double> to,
                           Duration target) {
          if (!from || !to || *to < *from) return;
          ++s.measured[i];
          s.met[i] += (*to - *from) <= toSeconds(target);
        };
        measure(0, started, detected, config_.targets.detect);
        measure(1, detected, responded, config_.targets.respond);
        measure(2, detected, located, config_.targets.locate);
        if (!restored && detected) {
          // Still open: it has missed the restore target once that much time has passed.
          double open_for = toSeconds(ctx.now) - *detected;
          if (open_for > toSeconds(config_.targets.restore)) ++s.measured[3];
        } else {
          measure(3, detected, restored, config_.targets.restore);
        }
        if (restored && detected && *restored >= *detected) {
          ++s.resolved;
          s.restore_total += *restored - *detected;
        }
      }
    }
    const std::string loc = "JQL incidents";
    const char* names[4] = {"detect", "respond", "locate", "restore"};
    for (const auto& [system, s] : by_system) {
      add(system, "incident.jira.incidents", s.incidents, loc);
      if (s.incidents > 0) {
        add(system, "incident.jira.resolved_ratio", static_cast<double>(s.resolved) / s.incidents, loc);
      }
      if (s.resolved > 0) {
        add(system, "incident.jira.restore_seconds_mean", s.restore_total / s.resolved, loc);
      }
      for (int i = 0; i < 4; ++i) {
        if (s.incidents == 0) continue;
        const std::string prefix = std::string("incident.jira.") + names[i];
        add(system, prefix + "_measured_ratio", static_cast<double>(s.measured[i]) / s.incidents,
            loc);
        // A ratio over a few measured incidents of many says nothing of the rest: it counts
        // only when most incidents of the window are measured.
        if (2 * s.measured[i] <= s.incidents) continue;
        add(system, prefix + "_attainment_ratio", static_cast<double>(s.met[i]) / s.measured[i],
            loc);
      }
    }
  }
  if (!config_.changes_jql.empty()) {
    auto issues = search("(" + config_.changes_jql + ")" + window,
                         {config_.system_field, "resolution", "issuelinks"}, ctx);
    if (!issues) return issues.error();
    struct Stats {
      int changes = 0, closed = 0, failed = 0, failed_closed = 0;
    };
    std::map<std::string, Stats> by_system;
    by_system[scorer::kAnySystem];  // a system without issues: the default
    for (const auto& issue : *issues) {
      const auto* f = objectMember(issue, "fields");
      if (!f) continue;
      const auto* res = objectMember(*f, "resolution");
      std::string resolution = res ? stringMember(*res, "name") : "";
      bool failed = std::find(config_.failed_resolutions.begin(), config_.failed_resolutions.end(),
                              resolution) != config_.failed_resolutions.end();
      // A change linked to an incident of the window caused (or is tied to) it: failed,
      // whatever its resolution says.
      if (const auto* links = arrayMember(*f, "issuelinks")) {
        for (const auto& l : links->GetArray()) {
          if (!l.IsObject()) continue;
          for (const char* side : {"inwardIssue", "outwardIssue"}) {
            const auto* other = objectMember(l, side);
            if (other && incident_keys.count(stringMember(*other, "key"))) failed = true;
          }
        }
      }
      for (const auto& system : systemsOf(*f)) {
        Stats& s = by_system[system];
        ++s.changes;
        s.closed += !resolution.empty();
        s.failed += failed;
        s.failed_closed += failed && !resolution.empty();
      }
    }
    const std::string loc = "JQL changes";
    for (const auto& [system, s] : by_system) {
      add(system, "change.jira.changes", s.changes, loc);
      add(system, "change.jira.changes_failed", s.failed, loc);
      // Success needs more than resolution names: without the incidents (to link changes
      // to) a change closed as Done that broke production would count as a success.
      if (s.closed > 0 && !config_.incidents_jql.empty()) {
        add(system, "change.jira.success_ratio",
            static_cast<double>(s.closed - s.failed_closed) / s.closed, loc);
      }
    }
  }
  return facts;
}

namespace {

class JiraFactory : public CollectorFactory {
 public:
  std::string type() const override { return "jira"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys("", type(), {
        {"incident.jira.incidents", ValueType::kNumber, "Incident issues of the system (incidents JQL) created within the window (default 30d)."},
        {"incident.jira.resolved_ratio", ValueType::kNumber, "Share of those incidents with a detection and a restore time (resolutiondate, or the configured field), the restore not before the detection."},
        {"incident.jira.restore_seconds_mean", ValueType::kNumber, "Mean seconds from detection to restoration over restored incidents."},
        {"incident.jira.detect_attainment_ratio", ValueType::kNumber, "Of the incidents measured (a `started` and a `detected` field, detected not before started), the share detected within the detect target (default 3m); only when more than half the incidents of the window are measured (detect_measured_ratio).",
         "incident.detect_attainment_ratio"},
        {"incident.jira.respond_attainment_ratio", ValueType::kNumber, "Of the incidents measured (`detected` and `responded` fields, in order), the share responded to within the respond target (default 5m); only when more than half the incidents are measured.",
         "incident.respond_attainment_ratio"},
        {"incident.jira.locate_attainment_ratio", ValueType::kNumber, "Of the incidents measured (`detected` and `located` fields, in order), the share located within the locate target (default 5m); only when more than half the incidents are measured.",
         "incident.locate_attainment_ratio"},
        {"incident.jira.restore_attainment_ratio", ValueType::kNumber, "Of the incidents measured (a `detected` field and the restore time, in order; one still open past the target counts as missed), the share restored within the restore target (default 10m); only when more than half the incidents are measured.",
         "incident.restore_attainment_ratio"},
        {"incident.jira.detect_measured_ratio", ValueType::kNumber, "Share of the incidents of the window whose detection time is measured (started and detected set, in order)."},
        {"incident.jira.respond_measured_ratio", ValueType::kNumber, "Share of the incidents whose response time is measured."},
        {"incident.jira.locate_measured_ratio", ValueType::kNumber, "Share of the incidents whose diagnosis time is measured."},
        {"incident.jira.restore_measured_ratio", ValueType::kNumber, "Share of the incidents whose restore time is measured (or open past the target)."},
        {"change.jira.changes", ValueType::kNumber, "Change issues of the system (changes JQL) created within the window."},
        {"change.jira.changes_failed", ValueType::kNumber, "Those resolved with a failed resolution (failed_resolutions: Failed, Rolled Back, Backed Out), or linked to an incident of the window (issuelinks)."},
        {"change.jira.success_ratio", ValueType::kNumber, "Share of resolved changes neither resolved as failed nor linked to an incident of the incidents JQL (absent when none is resolved, and without `incidents`: resolution names alone do not show success).",
         "change.ticket_success_ratio"},
    });
  }

  ConfigSchema configSchema() const override {
    auto jql = [](const std::string& what) {
      return stringKey("jql", "JQL of the " + what + " issues, without ORDER BY (the collector "
                              "adds a time window).")
          .isRequired()
          .nonEmpty();
    };
    std::vector<ConfigKey> keys = {
        urlKey("url", "The Jira site, e.g. `https://example.atlassian.net`.").isRequired(),
        stringKey("api", "`cloud` (`/rest/api/3/search/jql`) or `datacenter` (`/rest/api/2/search`).")
            .defaults("cloud")
            .oneOf({"cloud", "datacenter"}),
        mapKey("incidents", "Incident issues: their JQL, time fields and targets.")
            .withFields({
                jql("incident"),
                mapKey("fields", "The date-time fields (ids) holding each moment of an incident.")
                    .withFields({
                        stringKey("started", "When the fault began."),
                        stringKey("detected", "When it was detected: a field of its own (one an alert "
                                              "integration fills with the alert's start, say), never `created`."),
                        stringKey("responded", "When someone responded."),
                        stringKey("located", "When the cause was located."),
                        stringKey("restored", "When service was restored.").defaults("resolutiondate"),
                    }),
                mapKey("targets", "The targets each incident is measured against.")
                    .withFields({
                        durationKey("detect", "Started to detected.").defaults("3m"),
                        durationKey("respond", "Detected to responded.").defaults("5m"),
                        durationKey("locate", "Detected to located.").defaults("5m"),
                        durationKey("restore", "Detected to restored.").defaults("10m"),
                    }),
            }),
        mapKey("changes", "Change issues: their JQL and the resolutions of failed changes.")
            .withFields({
                jql("change"),
                stringListKey("failed_resolutions", "Resolutions that mark a change as failed.")
                    .defaults("Failed, Rolled Back, Backed Out"),
            }),
        stringKey("system_field", "The field naming the system: `components`, `labels` or a "
                                  "custom field id.")
            .defaults("components")
            .nonEmpty(),
        stringKey("system_prefix", "A prefix of the field's values naming systems, e.g. `system:` "
                                   "for labels like `system:payments`."),
        durationKey("window", "Issues created within this count.").defaults("30d").isPositive(),
        integerKey("page_size", "`maxResults` of each request.").defaults("100").range(1, 1000),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("jira", std::move(keys),
                        {{{"incidents", "changes"}, false, "set incidents, changes or both"}});
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    JiraConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.url = withoutTrailingSlashes(c.url);
    c.cloud = cfg.string("api") == "cloud";
    auto readJql = [](const ConfigReader& section) -> Result<std::string> {
      std::string jql = section.string("jql");
      std::string lower = jql;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower.find("order by") != std::string::npos) {
        return section.error("jql", "must not have ORDER BY (the collector adds a time window to it)");
      }
      return jql;
    };
    if (cfg.has("incidents")) {
      const ConfigReader inc = cfg.section("incidents");
      auto jql = readJql(inc);
      if (!jql) return jql.error();
      c.incidents_jql = *jql;
      const ConfigReader fields = inc.section("fields");
      c.time_fields.clear();
      for (const char* moment : {"started", "detected", "responded", "located", "restored"}) {
        std::string field = fields.string(moment);
        if (field == "created") {
          return fields.error(moment,
                              "must not be `created`: that is when the ticket was filed, which for "
                              "a ticket opened or back-filled after the fact is not when the "
                              "incident happened; name the field that records it");
        }
        if (!field.empty()) c.time_fields[moment] = field;
      }
      const ConfigReader targets = inc.section("targets");
      c.targets = {targets.duration("detect"), targets.duration("respond"),
                   targets.duration("locate"), targets.duration("restore")};
    }
    if (cfg.has("changes")) {
      const ConfigReader ch = cfg.section("changes");
      auto jql = readJql(ch);
      if (!jql) return jql.error();
      c.changes_jql = *jql;
      c.failed_resolutions = ch.strings("failed_resolutions");
    }
    c.system_field = cfg.string("system_field");
    c.system_prefix = cfg.string("system_prefix");
    c.window = cfg.duration("window");
    c.page_size = cfg.integer("page_size");
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    return std::unique_ptr<Collector>(std::make_unique<JiraCollector>(std::move(c)));
  }
};

}  // namespace

Status registerJira(Registry& registry) { return registry.add(std::make_unique<JiraFactory>()); }

}  // namespace opsm::collectors::jira
