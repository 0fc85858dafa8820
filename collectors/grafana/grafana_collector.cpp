#include "collectors/grafana/grafana_collector.h"

#include <map>
#include <set>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/regex.h"
#include "common/yaml_util.h"

namespace opsm::collectors::grafana {

namespace {

constexpr const char* kPrefix = "visualization.grafana.";

struct PerSystem {
  int dashboards = 0, templated = 0, dashboard_links = 0, data_links = 0;
  std::set<std::string> variables, panel_types;
};

size_t arraySize(const rapidjson::Value& obj, const char* name) {
  const auto* a = arrayMember(obj, name);
  return a ? a->Size() : 0;
}

// Links of `obj.name` that drill down: their URL carries the clicked value or field
// (${__value.raw}, ${__field.labels.instance}, ${__series.name}, ${__data.fields...}) or the
// dashboard's variables (var-host=..., ${__all_variables}). A plain link (a wiki page, another
// dashboard as it is) shows nothing of what was clicked.
int drillDownLinks(const rapidjson::Value& obj, const char* name) {
  static const Regex kCarries =
      *Regex::compile(R"(\$\{?__(value|field|series|data)|[?&]var-[A-Za-z0-9_]+=|\$\{?__all_variables)");
  const auto* links = arrayMember(obj, name);
  if (!links) return 0;
  int n = 0;
  for (const auto& l : links->GetArray()) {
    if (l.IsObject() && kCarries.partialMatch(stringMember(l, "url"))) ++n;
  }
  return n;
}

// Panels, including those nested in collapsed rows: types and links.
void walkPanels(const rapidjson::Value& panels, PerSystem* p, int depth = 0) {
  if (!panels.IsArray() || depth > 4) return;
  for (const auto& panel : panels.GetArray()) {
    if (!panel.IsObject()) continue;
    std::string type = stringMember(panel, "type");
    if (!type.empty() && type != "row") p->panel_types.insert(type);
    p->data_links += drillDownLinks(panel, "links");
    if (const auto* fc = objectMember(panel, "fieldConfig")) {
      if (const auto* defaults = objectMember(*fc, "defaults")) {
        p->data_links += drillDownLinks(*defaults, "links");
      }
    }
    if (const auto* inner = arrayMember(panel, "panels")) walkPanels(*inner, p, depth + 1);
  }
}

}  // namespace

GrafanaCollector::GrafanaCollector(GrafanaConfig config)
    : config_(std::move(config)), http_(config_.http) {}

Result<std::vector<scorer::Fact>> GrafanaCollector::collect(const CollectContext& ctx) {
  // Every dashboard, page by page, with its tags.
  std::map<std::string, std::string> uid_system;  // dashboard uid -> system
  for (int page = 1;; ++page) {
    if (page > config_.max_pages) {
      return makeError(ErrorCode::kBadResponse, "Grafana /api/search: more than " +
                                                    std::to_string(config_.max_pages) + " pages");
    }
    auto resp = http_.get(config_.url + "/api/search?type=dash-db&limit=" +
                              std::to_string(config_.page_size) + "&page=" + std::to_string(page),
                          ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "Grafana /api/search");
    if (!doc) return doc.error();
    if (!doc->IsArray()) {
      return makeError(ErrorCode::kBadResponse, "Grafana /api/search: expected a JSON array");
    }
    for (const auto& hit : doc->GetArray()) {
      const auto* tags = hit.IsObject() ? arrayMember(hit, "tags") : nullptr;
      if (!tags) continue;
      for (const auto& t : tags->GetArray()) {
        std::string tag = t.IsString() ? t.GetString() : "";
        if (tag.size() > config_.system_tag_prefix.size() &&
            tag.rfind(config_.system_tag_prefix, 0) == 0) {
          uid_system[stringMember(hit, "uid")] = tag.substr(config_.system_tag_prefix.size());
          break;
        }
      }
    }
    if (doc->Size() < static_cast<rapidjson::SizeType>(config_.page_size)) break;
  }

  std::map<std::string, PerSystem> by_system;
  by_system[scorer::kAnySystem];  // a system without dashboards: the default
  for (const auto& [uid, system] : uid_system) {
    if (uid.empty()) continue;
    auto resp = http_.get(config_.url + "/api/dashboards/uid/" + urlEncode(uid), ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "Grafana /api/dashboards/uid/" + uid);
    if (!doc) return doc.error();
    const auto* dash = doc->IsObject() ? objectMember(*doc, "dashboard") : nullptr;
    if (!dash) {
      return makeError(ErrorCode::kBadResponse,
                       "Grafana /api/dashboards/uid/" + uid + ": no dashboard object");
    }
    PerSystem& p = by_system[system];
    ++p.dashboards;
    bool templated = false;
    if (const auto* templating = objectMember(*dash, "templating")) {
      if (const auto* list = arrayMember(*templating, "list")) {
        for (const auto& v : list->GetArray()) {
          std::string type = stringMember(v, "type");
          if (type == "datasource" || type == "constant" || type == "textbox") continue;
          templated = true;
          p.variables.insert(stringMember(v, "name"));
        }
      }
    }
    p.templated += templated;
    p.dashboard_links += static_cast<int>(arraySize(*dash, "links"));
    if (const auto* panels = arrayMember(*dash, "panels")) walkPanels(*panels, &p);
  }

  std::vector<scorer::Fact> facts;
  const std::string loc = "/api/search, /api/dashboards/uid/<uid>";
  for (const auto& [system, p] : by_system) {
    auto add = [&, sys = system](const char* key, scorer::Value v) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), sys, std::move(v), loc});
    };
    add("dashboards", p.dashboards);
    if (p.dashboards > 0) add("templated_ratio", static_cast<double>(p.templated) / p.dashboards);
    add("variables", scorer::StringList(p.variables.begin(), p.variables.end()));
    add("panel_types", scorer::StringList(p.panel_types.begin(), p.panel_types.end()));
    add("dashboard_links", p.dashboard_links);
    add("data_links", p.data_links);
  }
  return facts;
}

namespace {

class GrafanaFactory : public CollectorFactory {
 public:
  std::string type() const override { return "grafana"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"dashboards", ValueType::kNumber, "Dashboards tagged `<system_tag_prefix><system>` (default system:payments).",
         "visualization.dashboards"},
        {"templated_ratio", ValueType::kNumber, "Share of those dashboards with a template variable (query, custom, interval... not datasource, constant or textbox): reusable, templated views. Absent without dashboards.",
         "visualization.templated_ratio"},
        {"variables", ValueType::kList, "Distinct template variable names of the system's dashboards (e.g. cluster, instance): the dimensions a view can be filtered and aggregated by.",
         "visualization.variables"},
        {"panel_types", ValueType::kList, "Distinct panel types of the system's dashboards (timeseries, table, nodeGraph, ...), rows excluded, collapsed rows included.",
         "visualization.panel_types"},
        {"dashboard_links", ValueType::kNumber, "Links between dashboards (dashboard.links): navigation.",
         "visualization.dashboard_links"},
        {"data_links", ValueType::kNumber, "Panel links and data links (fieldConfig.defaults.links) whose URL carries the clicked value or field (${__value...}, ${__field...}, ${__series...}, ${__data...}) or the variables (var-x=, ${__all_variables}): drill-down from a panel. A plain link (a wiki page) does not count.",
         "visualization.data_links"},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        urlKey("url", "The Grafana server, e.g. `https://grafana.example.com`.").isRequired(),
        stringKey("system_tag_prefix", "Dashboards tagged `<prefix><name>` belong to system `<name>`.")
            .defaults("system:"),
        integerKey("page_size", "The `limit` of each `/api/search` request.").defaults("1000").range(1, 5000),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("grafana", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    GrafanaConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.url = withoutTrailingSlashes(c.url);
    c.system_tag_prefix = cfg.string("system_tag_prefix");
    c.page_size = cfg.integer("page_size");
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    return std::unique_ptr<Collector>(std::make_unique<GrafanaCollector>(std::move(c)));
  }
};

}  // namespace

Status registerGrafana(Registry& registry) {
  return registry.add(std::make_unique<GrafanaFactory>());
}

}  // namespace opsm::collectors::grafana
