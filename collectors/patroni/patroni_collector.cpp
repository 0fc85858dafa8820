#include "collectors/patroni/patroni_collector.h"

#include <algorithm>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::patroni {

namespace {

constexpr const char* kPrefix = "database.patroni.";

double numberOr(const rapidjson::Value& obj, const char* name, double fallback) {
  const auto* v = member(obj, name);
  return v && v->IsNumber() ? v->GetDouble() : fallback;
}

bool boolOr(const rapidjson::Value& obj, const char* name, bool fallback) {
  const auto* v = member(obj, name);
  return v && v->IsBool() ? v->GetBool() : fallback;
}

std::string trimSlash(std::string url) {
  url = withoutTrailingSlashes(url);
  return url;
}

}  // namespace

PatroniCollector::PatroniCollector(PatroniConfig config)
    : config_(std::move(config)), http_(config_.http) {}

Result<std::vector<scorer::Fact>> PatroniCollector::collect(const CollectContext& ctx) {
  // Any member answers for the whole cluster (its view of the DCS): ask them in order.
  std::string base, errors;
  Result<HttpResponse> cluster_resp = makeError(ErrorCode::kUnavailable, "no member URL");
  for (const auto& url : config_.urls) {
    cluster_resp = http_.get(trimSlash(url) + "/cluster", ctx.remaining());
    if (cluster_resp) {
      base = trimSlash(url);
      break;
    }
    errors += (errors.empty() ? "" : "; ") + cluster_resp.error().message;
  }
  if (base.empty()) {
    return makeError(cluster_resp.error().code, "Patroni: no member answered: " + errors);
  }
  const std::string where = "Patroni " + redactUrl(base);
  auto cluster = parseJson(cluster_resp->body, where + "/cluster");
  if (!cluster) return cluster.error();
  const auto* members = cluster->IsObject() ? arrayMember(*cluster, "members") : nullptr;
  if (!members) {
    return makeError(ErrorCode::kBadResponse, where + "/cluster: no members array");
  }
  // The dynamic configuration: synchronous mode and the lag a failover candidate may have.
  auto config_resp = http_.get(base + "/config", ctx.remaining());
  if (!config_resp) return config_resp.error();
  auto config = parseJson(config_resp->body, where + "/config");
  if (!config) return config.error();
  if (!config->IsObject()) return makeError(ErrorCode::kBadResponse, where + "/config: not an object");
  auto history_resp = http_.get(base + "/history", ctx.remaining());
  if (!history_resp) return history_resp.error();
  auto history = parseJson(history_resp->body, where + "/history");
  if (!history) return history.error();
  if (!history->IsArray()) return makeError(ErrorCode::kBadResponse, where + "/history: not an array");

  const bool sync_mode = boolOr(*config, "synchronous_mode", false);
  const double max_lag = numberOr(*config, "maximum_lag_on_failover", 1048576);
  const bool paused = boolOr(*cluster, "pause", false);
  int count = 0, replicas = 0, sync_standbys = 0, candidates = 0, timeline = -1;
  bool leader_running = false;
  double lag_max = 0;
  std::string leader;
  std::vector<std::string> names;
  for (const auto& m : members->GetArray()) {
    if (!m.IsObject()) continue;
    ++count;
    const std::string name = stringMember(m, "name"), role = stringMember(m, "role"),
                      state = stringMember(m, "state");
    names.push_back(name);
    const bool running = state == "running" || state == "streaming";
    if (role == "leader" || role == "standby_leader") {
      leader = name;
      leader_running = running;
      timeline = static_cast<int>(numberOr(m, "timeline", -1));
      continue;
    }
    if (role != "replica" && role != "sync_standby") continue;
    if (!running) continue;
    ++replicas;
    const bool sync = role == "sync_standby";
    sync_standbys += sync;
    // lag is bytes behind the leader, or "unknown"
    const auto* lag = member(m, "lag");
    const bool lag_known = lag && lag->IsNumber();
    if (lag_known) lag_max = std::max(lag_max, lag->GetDouble());
    bool nofailover = false;
    if (const auto* tags = objectMember(m, "tags")) nofailover = boolOr(*tags, "nofailover", false);
    // Patroni promotes only a healthy replica within maximum_lag_on_failover, and in
    // synchronous mode only a synchronous standby.
    if (!nofailover && lag_known && lag->GetDouble() <= max_lag && (!sync_mode || sync)) {
      ++candidates;
    }
  }
  // History: [timeline, lsn, reason, timestamp, new leader] per leader change.
  double newest_change = -1;
  for (const auto& line : history->GetArray()) {
    if (!line.IsArray() || line.Size() < 4 || !line[3].IsString()) continue;
    auto t = parseTimestamp(line[3].GetString());
    if (t) newest_change = std::max(newest_change, toSeconds(*t));
  }
  std::vector<scorer::Fact> facts;
  const std::string& system = config_.system;
  auto add = [&](const char* key, scorer::Value v, const std::string& path) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v),
                                 redactUrl(base) + path});
  };
  add("members", count, "/cluster");
  add("member_names", scorer::StringList(names), "/cluster");
  add("leader", leader, "/cluster");
  add("leader_running", leader_running, "/cluster");
  add("replicas_running", replicas, "/cluster");
  add("sync_standbys", sync_standbys, "/cluster");
  add("replication_lag_bytes_max", lag_max, "/cluster");
  add("paused", paused, "/cluster");
  add("failover_candidates", candidates, "/cluster");
  add("automatic_failover", leader_running && !paused && candidates > 0, "/cluster");
  add("synchronous_mode", sync_mode, "/config");
  if (timeline >= 0) add("timeline", timeline, "/cluster");
  add("leader_changes", static_cast<double>(history->Size()), "/history");
  if (newest_change >= 0) {
    add("last_leader_change_age_seconds", std::max(0.0, toSeconds(ctx.now) - newest_change),
        "/history");
  }
  return facts;
}

namespace {

class PatroniFactory : public CollectorFactory {
 public:
  std::string type() const override { return "patroni"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"members", ValueType::kNumber, "Members of the cluster registered in the DCS.",
         "database.cluster_members"},
        {"member_names", ValueType::kList, "Names of the members."},
        {"leader", ValueType::kString, "The member holding the leader lock (empty without one)."},
        {"leader_running", ValueType::kBool, "A member holds the leader lock and its PostgreSQL is running."},
        {"replicas_running", ValueType::kNumber, "Replicas (and synchronous standbys) whose PostgreSQL is running.",
         "database.replicas"},
        {"sync_standbys", ValueType::kNumber, "Running synchronous standbys.",
         "database.sync_replicas"},
        {"replication_lag_bytes_max", ValueType::kNumber, "The largest lag of a running replica behind the leader, in bytes (replicas of unknown lag left out)."},
        {"paused", ValueType::kBool, "The cluster is in maintenance mode (pause): Patroni will not fail over."},
        {"failover_candidates", ValueType::kNumber, "Replicas Patroni would promote now: running, not tagged nofailover, lag within maximum_lag_on_failover, and synchronous when synchronous_mode is on."},
        {"automatic_failover", ValueType::kBool, "Patroni fails over by itself now: a running leader, at least one failover candidate, and the cluster not paused.",
         "database.automatic_failover"},
        {"synchronous_mode", ValueType::kBool, "synchronous_mode is on in the cluster's dynamic configuration (/config).",
         "database.sync_configured"},
        {"timeline", ValueType::kNumber, "The leader's timeline: 1 plus the promotions since the cluster was created."},
        {"leader_changes", ValueType::kNumber, "Leader changes (failovers and switchovers) in the cluster's history (/history).",
         "database.failovers"},
        {"last_leader_change_age_seconds", ValueType::kNumber, "Seconds since the last leader change (absent without one)."},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        stringKey("system", "The system whose database the cluster is.").isRequired().nonEmpty(),
        stringListKey("urls", "The REST API URL of one or more members, e.g. "
                              "`http://10.0.0.1:8008`.")
            .isRequired()
            .nonEmpty(),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("patroni", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    PatroniConfig c;
    c.name = cfg.name();
    c.system = cfg.string("system");
    if (std::string why; !scorer::isValidSystemName(c.system, &why)) return cfg.error("system", why);
    const YAML::Node urls = cfg.node("urls");
    c.urls = cfg.strings("urls");
    for (size_t i = 0; i < c.urls.size(); ++i) {
      const std::string& url = c.urls[i];
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return fieldError(cfg.file(), urls[i], "urls", "each must be an http:// or https:// URL");
      }
    }
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    return std::unique_ptr<Collector>(new PatroniCollector(std::move(c)));
  }
};

}  // namespace

Status registerPatroni(Registry& registry) {
  return registry.add(std::make_unique<PatroniFactory>());
}

}  // namespace opsm::collectors::patroni
