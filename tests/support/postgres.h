#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace opsm::testing {

// `argv` run as the postgres user when we are root (through setpriv), else as is; in `cwd`
// (default "/"), not the test's working directory, which that user may not be able to enter.
std::vector<std::string> asPostgres(std::vector<std::string> argv, const std::string& cwd = "/");
// Creates `dir` and, when we are root, gives it to the postgres user (its parents made
// traversable).
void handOver(const std::string& dir);

// Runs a command to completion (no shell), as the postgres user when we are root (PostgreSQL
// refuses to run as root). Returns its exit code; output goes to `log_path`.
int runAs(const std::vector<std::string>& argv, const std::string& log_path);

// A real PostgreSQL 15 cluster in `dir` (created by initdb, owned by the postgres user when
// the test runs as root), listening on 127.0.0.1:port() and on a Unix socket in `dir`.
// A standby is made from a primary with pg_basebackup and follows it by streaming replication.
class PostgresServer {
 public:
  // Creates and starts a primary; `extra_conf` is appended to postgresql.conf.
  static std::unique_ptr<PostgresServer> primary(const std::string& dir,
                                                 const std::string& extra_conf = "");
  // Creates and starts a streaming standby of `primary`.
  static std::unique_ptr<PostgresServer> standby(const PostgresServer& primary,
                                                 const std::string& dir);
  ~PostgresServer();

  unsigned short port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string dataDir() const { return dir_ + "/data"; }
  std::string socketDir() const { return dir_; }
  bool ok() const { return ok_; }
  std::string log() const;
  // Runs `sql` with psql as the postgres superuser; returns the trimmed output, or "" on error.
  std::string psql(const std::string& sql) const;
  void stop();

  static std::string binDir();  // /usr/lib/postgresql/<major>/bin

 private:
  PostgresServer() = default;
  bool start();

  std::string dir_;
  unsigned short port_ = 0;
  bool ok_ = false;
  std::unique_ptr<Process> process_;
};

}  // namespace opsm::testing
