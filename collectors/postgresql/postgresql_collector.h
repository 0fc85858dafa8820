#pragma once

#include <map>
#include <string>

#include "collectors/collector.h"

namespace opsm::collectors::postgresql {

struct PostgresqlConfig {
  std::string name;
  std::string system;
  // libpq connection parameters (host, port, user, dbname, sslmode, sslrootcert, password).
  std::map<std::string, std::string> params;
};

// Connects to one PostgreSQL server with libpq and reports its replication and WAL archiving
// state as database.postgresql.* facts for one system (docs/collectors/postgresql.md).
class PostgresqlCollector : public Collector {
 public:
  explicit PostgresqlCollector(PostgresqlConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  PostgresqlConfig config_;
};

Status registerPostgresql(Registry& registry);

}  // namespace opsm::collectors::postgresql
