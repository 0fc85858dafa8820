#include "collectors/loki/loki_collector.h"

#include <map>
#include <regex>
#include <set>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::loki {

namespace {

constexpr const char* kPrefix = "logs.loki.";

std::string nanos(TimePoint t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// A LogQL string literal.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

LokiCollector::LokiCollector(LokiConfig config) : config_(std::move(config)), http_(config_.http) {
  config_.url = withoutTrailingSlashes(config_.url);
}

Result<std::vector<scorer::Fact>> LokiCollector::collect(const CollectContext& ctx) {
  const std::string& label = config_.system_label;
  const std::string start = nanos(ctx.now - config_.window), end = nanos(ctx.now);
  const std::string window = formatDuration(config_.window);
  auto get = [&](const std::string& path, const std::string& what) -> Result<rapidjson::Document> {
    auto resp = http_.get(config_.url + path, ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "Loki " + what);
    if (!doc) return doc.error();
    if (!doc->IsObject() || stringMember(*doc, "status") != "success" || !member(*doc, "data")) {
      return makeError(ErrorCode::kBadResponse, "Loki " + what + ": no successful data");
    }
    return doc;
  };
  // Streams of each system received within the window (the series API).
  auto streamsOf = [&](const std::string& matchers,
                       std::map<std::string, int>* out) -> Status {
    std::string sel = "{" + label + "=~\".+\"" + (matchers.empty() ? "" : ", " + matchers) + "}";
    auto doc = get("/loki/api/v1/series?match[]=" + urlEncode(sel) + "&start=" + start + "&end=" + end,
                   "/loki/api/v1/series");
    if (!doc) return doc.error();
    const auto* data = arrayMember(*doc, "data");
    if (!data) return makeError(ErrorCode::kBadResponse, "Loki /loki/api/v1/series: data is not a list");
    for (const auto& s : data->GetArray()) {
      if (!s.IsObject()) continue;
      std::string system = stringMember(s, label.c_str());
      if (!system.empty()) ++(*out)[system];
    }
    return Status::success();
  };
  std::map<std::string, int> streams, app_streams;
  if (auto st = streamsOf("", &streams); !st) return st.error();
  if (!config_.application_matchers.empty()) {
    if (auto st = streamsOf(config_.application_matchers, &app_streams); !st) return st.error();
  }
  // Lines per system within the window: one metric query.
  std::map<std::string, double> lines;
  {
    std::string q = "sum by (" + label + ") (count_over_time({" + label + "=~\".+\"}[" + window + "]))";
    auto doc = get("/loki/api/v1/query?query=" + urlEncode(q) + "&time=" + end, "/loki/api/v1/query");
    if (!doc) return doc.error();
    const auto* data = objectMember(*doc, "data");
    const auto* result = data ? arrayMember(*data, "result") : nullptr;
    if (!result) return makeError(ErrorCode::kBadResponse, "Loki /loki/api/v1/query: no result list");
    for (const auto& r : result->GetArray()) {
      const auto* metric = r.IsObject() ? objectMember(r, "metric") : nullptr;
      const auto* value = r.IsObject() ? arrayMember(r, "value") : nullptr;
      if (!metric || !value || value->Size() != 2 || !(*value)[1].IsString()) continue;
      try {
        lines[stringMember(*metric, label.c_str())] = std::stod((*value)[1].GetString());
      } catch (const std::exception&) {
      }
    }
  }
  // The newest line of each system: one backward query with limit 1 per system.
  std::map<std::string, double> newest;  // seconds since epoch
  for (const auto& [system, _] : streams) {
    std::string q = "{" + label + "=" + quoted(system) + "}";
    auto doc = get("/loki/api/v1/query_range?query=" + urlEncode(q) + "&limit=1&direction=backward&start=" +
                       start + "&end=" + end,
                   "/loki/api/v1/query_range");
    if (!doc) return doc.error();
    const auto* data = objectMember(*doc, "data");
    const auto* result = data ? arrayMember(*data, "result") : nullptr;
    if (!result) continue;
    for (const auto& stream : result->GetArray()) {
      const auto* values = stream.IsObject() ? arrayMember(stream, "values") : nullptr;
      if (!values) continue;
      for (const auto& v : values->GetArray()) {
        if (!v.IsArray() || v.Size() < 1 || !v[0].IsString()) continue;
        try {
          double t = std::stod(v[0].GetString()) / 1e9;
          newest[system] = std::max(newest[system], t);
        } catch (const std::exception&) {
        }
      }
    }
  }
  // Retention: the running config (/config, YAML); optional (it may be disabled).
  std::optional<double> retention;
  if (auto resp = http_.get(config_.url + "/config", ctx.remaining())) {
    auto yaml = loadYamlString(resp->body, "Loki /config", ctx.yamlLimits());
    if (yaml && (*yaml)["compactor"] && (*yaml)["compactor"]["retention_enabled"] &&
        (*yaml)["compactor"]["retention_enabled"].as<std::string>() == "true" && (*yaml)["limits_config"] &&
        (*yaml)["limits_config"]["retention_period"]) {
      if (auto d = parseDuration((*yaml)["limits_config"]["retention_period"].as<std::string>()); d && d->count() > 0) {
        retention = toSeconds(*d);
      }
    }
  }
  const double now = toSeconds(ctx.now);
  std::vector<scorer::Fact> facts;
  const std::string loc = redactUrl(config_.url);
  for (const auto& entry : streams) {
    const std::string& system = entry.first;  // a lambda may not capture a structured binding
    const auto n = entry.second;              // before C++20 in clang 14
    auto add = [&](const char* key, scorer::Value v, const std::string& path) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), loc + path});
    };
    add("streams", n, "/loki/api/v1/series");
    const double l = lines.count(system) ? lines[system] : 0;
    add("lines_window", l, "/loki/api/v1/query");
    add("collected", l > 0, "/loki/api/v1/query");
    if (newest.count(system)) add("newest_age_seconds", std::max(0.0, now - newest[system]), "/loki/api/v1/query_range");
    if (!config_.application_matchers.empty()) {
      const int app = app_streams.count(system) ? app_streams[system] : 0;
      add("application_streams", app, "/loki/api/v1/series");
      add("application_logs", app > 0 && l > 0, "/loki/api/v1/series");
    }
    if (retention) add("retention_seconds", *retention, "/config");
  }
  return facts;
}

namespace {

class LokiFactory : public CollectorFactory {
 public:
  std::string type() const override { return "loki"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"streams", ValueType::kNumber, "Log streams of the system (its `system_label`) that received lines within the window (/loki/api/v1/series).", "logs.streams"},
        {"lines_window", ValueType::kNumber, "Lines of the system received within the window (count_over_time, one metric query for all systems)."},
        {"collected", ValueType::kBool, "The system's logs reached Loki within the window (lines_window > 0).", "logs.collected"},
        {"newest_age_seconds", ValueType::kNumber, "Seconds since the system's newest line (a backward query with limit 1).", "logs.newest_age_seconds"},
        {"application_streams", ValueType::kNumber, "Streams of the system that `application_matchers` selects; only with application_matchers."},
        {"application_logs", ValueType::kBool, "Application streams of the system received lines within the window; only with application_matchers.", "logs.application_logs"},
        {"retention_seconds", ValueType::kNumber, "limits_config.retention_period when compactor.retention_enabled (/config); absent otherwise (logs are then not deleted by age).", "logs.retention_seconds"},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        urlKey("url", "The Loki server, e.g. `http://loki:3100`.").isRequired(),
        stringKey("system_label", "The stream label naming the system.").defaults("system"),
        stringKey("application_matchers", "LogQL label matchers (no braces) of application logs, "
                                          "e.g. `source=\"app\"`."),
        durationKey("window", "A stream counts when it received lines within this.").defaults("1h").isPositive(),
        stringKey("tenant", "Sent as `X-Scope-OrgID`, for a multi-tenant Loki."),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("loki", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    LokiConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.system_label = cfg.string("system_label");
    static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
    if (!std::regex_match(c.system_label, kLabel)) {
      return cfg.error("system_label", "'" + c.system_label + "' is not a label name");
    }
    c.application_matchers = cfg.string("application_matchers");
    if (c.application_matchers.find_first_of("{}") != std::string::npos) {
      return cfg.error("application_matchers", "label matchers without braces, e.g. source=\"app\"");
    }
    c.window = cfg.duration("window");
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    if (std::string tenant = cfg.string("tenant"); !tenant.empty()) {
      c.http.extra_headers["X-Scope-OrgID"] = tenant;
    }
    return std::unique_ptr<Collector>(new LokiCollector(std::move(c)));
  }
};

}  // namespace

Status registerLoki(Registry& registry) { return registry.add(std::make_unique<LokiFactory>()); }

}  // namespace opsm::collectors::loki
