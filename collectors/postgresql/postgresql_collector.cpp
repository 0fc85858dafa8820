#include "collectors/postgresql/postgresql_collector.h"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>

#include "collectors/common/http_config.h"
#include "collectors/common/tool.h"
#include "common/yaml_util.h"

namespace opsm::collectors::postgresql {

namespace {

constexpr const char* kPrefix = "database.postgresql.";

// One row of facts about the server. pg_stat_replication and pg_stat_archiver need the
// pg_monitor role (or a superuser) to show more than their own sessions.
constexpr const char* kQuery = R"sql(
SELECT pg_is_in_recovery()::text,
       current_setting('archive_mode'),
       current_setting('synchronous_standby_names'),
       (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')::text,
       (SELECT count(*) FROM pg_stat_replication
         WHERE state = 'streaming' AND sync_state IN ('sync', 'quorum'))::text,
       (SELECT COALESCE(max(EXTRACT(EPOCH FROM replay_lag)), 0) FROM pg_stat_replication)::text,
       (SELECT COALESCE(bool_or(status = 'streaming'), false) FROM pg_stat_wal_receiver)::text,
       a.archived_count::text,
       a.failed_count::text,
       EXTRACT(EPOCH FROM now() - a.last_archived_time)::text,
       (a.last_failed_time IS NOT NULL AND
        (a.last_archived_time IS NULL OR a.last_failed_time > a.last_archived_time))::text
FROM pg_stat_archiver a
)sql";

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};

std::string firstLine(const char* msg) {
  std::string s = msg ? msg : "";
  s = s.substr(0, s.find('\n'));
  return s.size() > 300 ? s.substr(0, 300) + "..." : s;
}

}  // namespace

Result<std::vector<scorer::Fact>> PostgresqlCollector::collect(const CollectContext& ctx) {
  auto params = config_.params;
  long long secs = std::max<long long>(2, std::chrono::duration_cast<std::chrono::seconds>(
                                              ctx.remaining()).count());
  params["connect_timeout"] = std::to_string(secs);
  params["options"] = "-c statement_timeout=" + std::to_string(secs * 1000);
  params["application_name"] = "opsmaturity";
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdbParams(keys.data(), values.data(), 0));
  std::vector<std::string> secrets;
  if (auto it = config_.params.find("password"); it != config_.params.end()) {
    secrets.push_back(it->second);
  }
  std::string where = "postgresql " + config_.params.at("host") + ":" +
                      (config_.params.count("port") ? config_.params.at("port") : "5432");
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string msg = conn ? firstLine(PQerrorMessage(conn.get())) : "out of memory";
    ErrorCode code = msg.find("password") != std::string::npos ||
                             msg.find("authentication") != std::string::npos
                         ? ErrorCode::kUnauthenticated
                         : ErrorCode::kUnavailable;
    return makeError(code, scrub(where + ": cannot connect: " + msg, secrets));
  }
  std::unique_ptr<PGresult, ResultCloser> res(PQexec(conn.get(), kQuery));
  if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK || PQntuples(res.get()) != 1) {
    return makeError(ErrorCode::kBadResponse,
                     where + ": query failed: " + firstLine(PQerrorMessage(conn.get())));
  }
  auto col = [&](int i) -> std::string {
    return PQgetisnull(res.get(), 0, i) ? "" : PQgetvalue(res.get(), 0, i);
  };
  auto num = [&](int i) { return col(i).empty() ? 0.0 : std::stod(col(i)); };
  const std::string loc = "pg_stat_replication, pg_stat_archiver, pg_stat_wal_receiver";
  std::vector<scorer::Fact> facts;
  auto add = [&](const char* key, scorer::Value v) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), config_.system, std::move(v), loc});
  };
  try {
    bool standby = col(0) == "true";
    add("in_recovery", standby);
    add("archive_mode_on", col(1) == "on" || col(1) == "always");
    add("synchronous_standby_names_set", !col(2).empty());
    add("streaming_replicas", num(3));
    add("sync_replicas", num(4));
    add("replay_lag_seconds_max", num(5));
    if (standby) add("wal_receiver_streaming", col(6) == "true");
    add("archived_wal_total", num(7));
    add("archive_failing", col(10) == "true");
    if (!col(9).empty()) add("last_archived_age_seconds", std::max(0.0, num(9)));
  } catch (const std::exception&) {
    return makeError(ErrorCode::kBadResponse, where + ": unexpected value in query result");
  }
  return facts;
}

namespace {

class PostgresqlFactory : public CollectorFactory {
 public:
  std::string type() const override { return "postgresql"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"in_recovery", ValueType::kBool, "The server is a standby (pg_is_in_recovery())."},
        {"archive_mode_on", ValueType::kBool, "archive_mode is on or always: WAL is archived for point-in-time recovery.",
         "database.wal_archiving"},
        {"synchronous_standby_names_set", ValueType::kBool, "synchronous_standby_names is set: commits wait for a synchronous standby.",
         "database.sync_configured"},
        {"streaming_replicas", ValueType::kNumber, "Standbys streaming from this server (pg_stat_replication, state = streaming).",
         "database.replicas"},
        {"sync_replicas", ValueType::kNumber, "Streaming standbys that are synchronous (sync_state sync or quorum).",
         "database.sync_replicas"},
        {"replay_lag_seconds_max", ValueType::kNumber, "Largest replay_lag of the standbys, in seconds (0 without standbys).",
         "database.replica_lag_seconds_max"},
        {"wal_receiver_streaming", ValueType::kBool, "On a standby: its WAL receiver is streaming from the primary (pg_stat_wal_receiver). Absent on a primary.",
         "database.replica_streaming"},
        {"archived_wal_total", ValueType::kNumber, "WAL files archived successfully since statistics were reset (pg_stat_archiver.archived_count)."},
        {"archive_failing", ValueType::kBool, "The last archiving attempt failed (last_failed_time after last_archived_time)."},
        {"last_archived_age_seconds", ValueType::kNumber, "Seconds since a WAL file was last archived (absent if none ever was).",
         "database.archive_age_seconds"},
    });
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "postgresql",
        {
            stringKey("system", "The system whose database this server is.").isRequired().nonEmpty(),
            stringKey("host", "Host name, IP address or Unix socket directory.").isRequired().nonEmpty(),
            integerKey("port", "The TCP port.").defaults("5432").range(1, 65535),
            stringKey("user", "The role to connect as; it needs pg_monitor.").defaults("opsmaturity").nonEmpty(),
            stringKey("dbname", "The database to connect to.").defaults("postgres").nonEmpty(),
            secretKey("password", "The role's password."),
            stringKey("sslmode", "libpq's sslmode; `verify-full` by default, `prefer` for a Unix "
                                 "socket or loopback host.")
                .oneOf({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
            stringKey("sslrootcert", "CA certificates (PEM) to verify the server with."),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    PostgresqlConfig c;
    c.name = cfg.name();
    c.system = cfg.string("system");
    for (const char* k : {"host", "user", "dbname", "sslmode", "sslrootcert"}) {
      if (std::string v = cfg.string(k); !v.empty()) c.params[k] = v;
    }
    c.params["port"] = std::to_string(cfg.integer("port"));
    // TLS with certificate verification unless the server is local (a Unix socket directory
    // or loopback), where libpq's default (prefer) applies.
    const std::string& host = c.params["host"];
    bool local = host.front() == '/' || host == "localhost" || host == "127.0.0.1" || host == "::1";
    if (!c.params.count("sslmode")) c.params["sslmode"] = local ? "prefer" : "verify-full";
    auto pw = cfg.secret("password");
    if (!pw) return pw.error();
    if (cfg.has("password")) c.params["password"] = *pw;
    // Never read a password from the agent's ~/.pgpass or service file by surprise.
    c.params["passfile"] = "/dev/null/opsmaturity-no-pgpass";  // cannot exist
    return std::unique_ptr<Collector>(std::make_unique<PostgresqlCollector>(std::move(c)));
  }
};

}  // namespace

Status registerPostgresql(Registry& registry) {
  return registry.add(std::make_unique<PostgresqlFactory>());
}

}  // namespace opsm::collectors::postgresql
