#include "collectors/redis/redis_collector.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "collectors/common/http_config.h"
#include "collectors/common/tool.h"
#include "common/yaml_util.h"

namespace opsm::collectors::redis {

namespace {

constexpr const char* kPrefix = "cache.redis.";

struct ContextCloser {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyCloser {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Conn = std::unique_ptr<redisContext, ContextCloser>;
using Reply = std::unique_ptr<redisReply, ReplyCloser>;

timeval toTimeval(Duration d) {
  auto ms = std::max<long long>(d.count(), 1);
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

Result<Conn> connect(const Endpoint& ep, const CollectContext& ctx) {
  Conn c(redisConnectWithTimeout(ep.host.c_str(), ep.port, toTimeval(ctx.remaining())));
  if (!c) return makeError(ErrorCode::kInternal, "redis " + ep.text() + ": out of memory");
  if (c->err) {
    return makeError(ErrorCode::kUnavailable,
                     "redis " + ep.text() + ": cannot connect: " + std::string(c->errstr));
  }
  redisSetTimeout(c.get(), toTimeval(ctx.remaining()));
  return c;
}

Result<Reply> command(redisContext* c, const Endpoint& ep, const std::vector<std::string>& args,
                      const std::vector<std::string>& secrets) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Reply r(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
  std::string what = "redis " + ep.text() + " " + args.front();
  if (!r) {
    ErrorCode code = c->err == REDIS_ERR_IO && std::string(c->errstr).find("temporarily") !=
                                                   std::string::npos
                         ? ErrorCode::kTimeout
                         : ErrorCode::kUnavailable;
    return makeError(code, scrub(what + ": " + std::string(c->errstr), secrets));
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string msg(r->str, r->len);
    ErrorCode code = msg.rfind("NOAUTH", 0) == 0 || msg.rfind("WRONGPASS", 0) == 0 ||
                             msg.find("invalid password") != std::string::npos
                         ? ErrorCode::kUnauthenticated
                         : ErrorCode::kBadResponse;
    return makeError(code, scrub(what + ": " + msg.substr(0, 300), secrets));
  }
  return r;
}

// "key:value" lines of an INFO section.
std::map<std::string, std::string> parseInfo(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace

std::map<std::string, int> clusterReplicasPerMaster(const std::string& nodes) {
  // <id> <ip:port@cport[,hostname]> <flags> <master id or -> <ping> <pong> <epoch> <state> ...
  std::map<std::string, int> per_master;
  std::vector<std::pair<std::string, std::string>> replicas;  // (replica flags, master id)
  std::istringstream in(nodes);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, addr, flags, master;
    if (!(fields >> id >> addr >> flags >> master)) continue;
    auto has = [&](const char* f) {
      std::istringstream fl(flags);
      for (std::string part; std::getline(fl, part, ',');) {
        if (part == f) return true;
      }
      return false;
    };
    if (has("fail") || has("noaddr")) continue;  // a failed node holds nothing up
    if (has("master")) {
      per_master.try_emplace(id, 0);
    } else if (has("slave") || has("replica")) {
      replicas.emplace_back(id, master);
    }
  }
  for (const auto& [_, master] : replicas) {
    auto it = per_master.find(master);
    if (it != per_master.end()) ++it->second;
  }
  return per_master;
}

Result<std::vector<scorer::Fact>> RedisCollector::collect(const CollectContext& ctx) {
  std::vector<std::string> secrets{config_.password};
  auto conn = connect(config_.address, ctx);
  if (!conn) return conn.error();
  if (!config_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!config_.username.empty()) auth.push_back(config_.username);
    auth.push_back(config_.password);
    auto r = command(conn->get(), config_.address, auth, secrets);
    if (!r) return r.error();
  }
  std::map<std::string, std::string> info;
  for (const char* section : {"replication", "persistence", "cluster", "stats"}) {
    auto r = command(conn->get(), config_.address, {"INFO", section}, secrets);
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_STRING && (*r)->type != REDIS_REPLY_STATUS) {
      return makeError(ErrorCode::kBadResponse,
                       "redis " + config_.address.text() + " INFO: not a bulk string");
    }
    info.merge(parseInfo(std::string((*r)->str, (*r)->len)));
  }
  if (!info.count("role")) {
    return makeError(ErrorCode::kBadResponse,
                     "redis " + config_.address.text() + " INFO replication: no role");
  }
  const std::string loc = "INFO replication, INFO persistence";
  // Key lookups (hits + misses) below which the hit ratio says nothing of the server's use.
  constexpr double kMinLookups = 100;
  std::vector<scorer::Fact> facts;
  auto add = [&](const char* key, scorer::Value v, const std::string& l) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), config_.system, std::move(v), l});
  };
  auto number = [&](const std::string& k) {
    try {
      return info.count(k) ? std::stod(info[k]) : 0.0;
    } catch (const std::exception&) {
      return 0.0;
    }
  };
  std::string role = info["role"] == "slave" ? "replica" : info["role"];
  add("role", role, loc);
  int online = 0;
  for (const auto& [k, v] : info) {
    // slave0:ip=127.0.0.1,port=6380,state=online,offset=...,lag=0
    if (k.rfind("slave", 0) == 0 && k.size() > 5 && std::isdigit(static_cast<unsigned char>(k[5])) &&
        v.find("state=online") != std::string::npos) {
      ++online;
    }
  }
  add("connected_replicas", number("connected_slaves"), loc);
  add("replicas_online", online, loc);
  if (role == "replica") add("master_link_up", info["master_link_status"] == "up", loc);
  add("aof_enabled", info["aof_enabled"] == "1", loc);
  add("cluster_enabled", info["cluster_enabled"] == "1", "INFO cluster");
  // A cache serves reads of hot keys: most key lookups of read commands hit (GET, HGET...).
  // A queue broker's pushes and pops (LPUSH, BRPOP) are no such lookups, and a store may be
  // read rarely. Without enough lookups since the server started nothing is said; the site's
  // `used_as` says it outright.
  const double hits = number("keyspace_hits"), misses = number("keyspace_misses");
  add("keyspace_hits", hits, "INFO stats");
  add("keyspace_misses", misses, "INFO stats");
  if (hits + misses > 0) add("hit_ratio", hits / (hits + misses), "INFO stats");
  if (!config_.used_as.empty()) {
    add("serves_hot_data", config_.used_as == "cache", "used_as: " + config_.used_as);
  } else if (hits + misses >= kMinLookups) {
    add("serves_hot_data", hits / (hits + misses) >= 0.5, "INFO stats");
  }
  add("rdb_last_save_ok", info["rdb_last_bgsave_status"] == "ok", loc);
  if (info.count("rdb_last_save_time")) {
    add("rdb_last_save_age_seconds",
        std::max(0.0, toSeconds(ctx.now) - number("rdb_last_save_time")), loc);
  }
  // Whether RDB snapshots are configured at all: rdb_last_bgsave_status is "ok" on a server
  // that never saves (save ""). A server where CONFIG is renamed or denied says nothing.
  if (auto save = command(conn->get(), config_.address, {"CONFIG", "GET", "save"}, secrets);
      save && (*save)->type == REDIS_REPLY_ARRAY && (*save)->elements == 2 &&
      (*save)->element[1]->type == REDIS_REPLY_STRING) {
    std::string rules((*save)->element[1]->str, (*save)->element[1]->len);
    add("rdb_save_configured", rules.find_first_not_of(' ') != std::string::npos, "CONFIG GET save");
  } else if (!save && save.error().code != ErrorCode::kBadResponse) {
    return save.error();  // the connection failed, not the command
  }
  // In cluster mode: the fewest replicas any master has (CLUSTER NODES). A cluster whose
  // shards have no replica loses a shard's data with its node, and cannot fail over.
  if (info["cluster_enabled"] == "1") {
    auto nodes = command(conn->get(), config_.address, {"CLUSTER", "NODES"}, secrets);
    if (!nodes) return nodes.error();
    if ((*nodes)->type != REDIS_REPLY_STRING) {
      return makeError(ErrorCode::kBadResponse,
                       "redis " + config_.address.text() + " CLUSTER NODES: not a bulk string");
    }
    auto per_master = clusterReplicasPerMaster(std::string((*nodes)->str, (*nodes)->len));
    if (!per_master.empty()) {
      int fewest = -1;
      for (const auto& [_, n] : per_master) fewest = fewest < 0 ? n : std::min(fewest, n);
      add("cluster_min_replicas_per_master", fewest, "CLUSTER NODES");
      add("cluster_masters", static_cast<double>(per_master.size()), "CLUSTER NODES");
    }
  }

  if (!config_.sentinels.empty()) {
    // Sentinels that answer and monitor the master group; the quorum check of the first.
    int monitoring = 0;
    std::optional<bool> quorum_ok;
    for (const auto& ep : config_.sentinels) {
      auto sc = connect(ep, ctx);
      if (!sc) continue;
      auto r = command(sc->get(), ep, {"SENTINEL", "MASTER", config_.master_name}, secrets);
      if (!r) continue;
      ++monitoring;
      if (!quorum_ok) {
        auto q = command(sc->get(), ep, {"SENTINEL", "CKQUORUM", config_.master_name}, secrets);
        quorum_ok = q.ok();
      }
    }
    const std::string sloc = "SENTINEL MASTER " + config_.master_name;
    add("sentinels_monitoring", monitoring, sloc);
    add("sentinel_quorum_ok", quorum_ok.value_or(false), "SENTINEL CKQUORUM " + config_.master_name);
  }
  return facts;
}

namespace {

Result<Endpoint> parseEndpoint(const std::string& file, const YAML::Node& n,
                               const std::string& field) {
  if (!n.IsScalar()) return fieldError(file, n, field, "must be host:port");
  std::string s = n.Scalar();
  auto colon = s.rfind(':');
  Endpoint ep;
  try {
    if (colon == std::string::npos || colon == 0) throw std::invalid_argument("no port");
    ep.host = s.substr(0, colon);
    size_t used = 0;
    ep.port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || ep.port < 1 || ep.port > 65535) {
      throw std::invalid_argument("bad port");
    }
  } catch (const std::exception&) {
    return fieldError(file, n, field, "must be host:port, e.g. 127.0.0.1:6379");
  }
  return ep;
}

class RedisFactory : public CollectorFactory {
 public:
  std::string type() const override { return "redis"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"role", ValueType::kString, "The server's replication role: master or replica (INFO replication).",
         "cache.role"},
        {"connected_replicas", ValueType::kNumber, "Replicas connected to this server (connected_slaves)."},
        {"replicas_online", ValueType::kNumber, "Connected replicas in state online (in sync).",
         "cache.replicas_online"},
        {"master_link_up", ValueType::kBool, "On a replica: the link to its master is up (master_link_status). Absent on a master.",
         "cache.replica_link_up"},
        {"keyspace_hits", ValueType::kNumber, "Key lookups of read commands that found the key since the server started (INFO stats)."},
        {"keyspace_misses", ValueType::kNumber, "Key lookups that did not (INFO stats)."},
        {"hit_ratio", ValueType::kNumber, "keyspace_hits / (hits + misses); absent without lookups.",
         "cache.hit_ratio"},
        {"serves_hot_data", ValueType::kBool, "The server caches hot data: the site says so (used_as: cache; false for broker or store), or, not said, at least 100 key lookups since start of which half or more hit. A queue broker (LPUSH/BRPOP) makes no such lookups: absent (unknown), not true.",
         "cache.serves_hot_data"},
        {"cluster_enabled", ValueType::kBool, "The server runs in Redis Cluster mode (INFO cluster cluster_enabled): data sharded across a distributed cluster.",
         "cache.sharded"},
        {"aof_enabled", ValueType::kBool, "Append-only file persistence is on (INFO persistence aof_enabled).",
         "cache.append_log"},
        {"rdb_last_save_ok", ValueType::kBool, "The last RDB background save succeeded (rdb_last_bgsave_status ok).",
         "cache.snapshot_last_ok"},
        {"rdb_last_save_age_seconds", ValueType::kNumber, "Seconds since the last successful RDB save."},
        {"rdb_save_configured", ValueType::kBool, "RDB snapshots are configured (CONFIG GET save is not empty); absent when CONFIG is not allowed.",
         "cache.snapshot_configured"},
        {"cluster_min_replicas_per_master", ValueType::kNumber, "In cluster mode: the fewest replicas (not failed) any master has (CLUSTER NODES); absent otherwise.",
         "cache.min_replicas_per_shard"},
        {"cluster_masters", ValueType::kNumber, "In cluster mode: masters (not failed) of the cluster (CLUSTER NODES)."},
        {"sentinels_monitoring", ValueType::kNumber, "Configured Sentinels that answer and monitor master_name (SENTINEL MASTER); only with `sentinels`."},
        {"sentinel_quorum_ok", ValueType::kBool, "SENTINEL CKQUORUM master_name succeeds: enough Sentinels to authorise a failover; only with `sentinels`.",
         "cache.failover_quorum_ok"},
    });
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "redis",
        {
            stringKey("system", "The system whose cache or store this server is.").isRequired().nonEmpty(),
            stringKey("address", "The server, `host:port`.").isRequired(),
            stringListKey("sentinels", "Sentinels (`host:port`) watching the master.").nonEmpty(),
            stringKey("master_name", "The master's name at the sentinels; required with sentinels."),
            stringKey("username", "An ACL user (Redis 6+)."),
            secretKey("password", "The password (AUTH)."),
            stringKey("used_as", "What the server is used as, when its read hits cannot tell: "
                                 "`cache`, `broker` (a queue) or `store`.")
                .oneOf({"cache", "broker", "store"}),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    const std::string& file = cfg.file();
    RedisConfig c;
    c.name = cfg.name();
    c.system = cfg.string("system");
    auto addr = parseEndpoint(file, cfg.entry()["address"], "address");
    if (!addr) return addr.error();
    c.address = *addr;
    if (const YAML::Node s = cfg.node("sentinels")) {
      for (const auto& e : s) {
        auto ep = parseEndpoint(file, e, "sentinels");
        if (!ep) return ep.error();
        c.sentinels.push_back(*ep);
      }
      c.master_name = cfg.string("master_name");
      if (c.master_name.empty()) return cfg.error("master_name", "is required with sentinels");
    } else if (cfg.has("master_name")) {
      return cfg.error("master_name", "only makes sense with sentinels");
    }
    c.username = cfg.string("username");
    c.used_as = cfg.string("used_as");
    auto pw = cfg.secret("password");
    if (!pw) return pw.error();
    c.password = *pw;
    return std::unique_ptr<Collector>(std::make_unique<RedisCollector>(std::move(c)));
  }
};

}  // namespace

Status registerRedis(Registry& registry) { return registry.add(std::make_unique<RedisFactory>()); }

}  // namespace opsm::collectors::redis
