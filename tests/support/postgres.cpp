#include "tests/support/postgres.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace opsm::testing {

std::vector<std::string> asPostgres(std::vector<std::string> argv, const std::string& cwd) {
  if (geteuid() != 0) return argv;
  // In a working directory of its own: the test's (a private build tree, a 0700 home) may be
  // one the postgres user cannot enter ("could not change directory to ...").
  std::vector<std::string> out{"setpriv", "--reuid=postgres", "--regid=postgres",
                               "--init-groups", "--", "env", "--chdir=" + cwd};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

void handOver(const std::string& dir) {
  std::filesystem::create_directories(dir);
  if (geteuid() != 0) return;
  const passwd* pw = getpwnam("postgres");
  if (!pw) return;
  for (auto p = std::filesystem::path(dir).parent_path(); p != p.root_path(); p = p.parent_path()) {
    chmod(p.c_str(), 0755);
  }
  if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) return;
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int runAs(const std::vector<std::string>& argv, const std::string& log_path) {
  Process p(asPostgres(argv), log_path);
  return p.wait();
}

std::string PostgresServer::binDir() {
  for (const char* v : {"17", "16", "15", "14", "13"}) {
    std::string d = std::string("/usr/lib/postgresql/") + v + "/bin";
    if (std::filesystem::exists(d + "/postgres")) return d;
  }
  return "";
}

std::unique_ptr<PostgresServer> PostgresServer::primary(const std::string& dir,
                                                        const std::string& extra_conf) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->dir_ = dir;
  s->port_ = freePort();
  handOver(dir);
  if (runAs({binDir() + "/initdb", "-D", s->dataDir(), "-A", "trust", "-U", "postgres"},
            dir + "/initdb.log") != 0) {
    return s;
  }
  std::ofstream conf(s->dataDir() + "/postgresql.conf", std::ios::app);
  conf << "listen_addresses = '127.0.0.1'\nport = " << s->port_
       << "\nunix_socket_directories = '" << dir << "'\nwal_level = replica\n"
       << "max_wal_senders = 5\nfsync = off\n"
       << extra_conf << "\n";
  conf.close();
  std::ofstream hba(s->dataDir() + "/pg_hba.conf", std::ios::app);
  hba << "host replication postgres 127.0.0.1/32 trust\n";
  hba.close();
  s->ok_ = s->start();
  return s;
}

std::unique_ptr<PostgresServer> PostgresServer::standby(const PostgresServer& primary,
                                                        const std::string& dir) {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->dir_ = dir;
  s->port_ = freePort();
  handOver(dir);
  if (runAs({binDir() + "/pg_basebackup", "-h", "127.0.0.1", "-p", std::to_string(primary.port()),
             "-U", "postgres", "-D", s->dataDir(), "-R", "-X", "stream"},
            dir + "/basebackup.log") != 0) {
    return s;
  }
  std::ofstream conf(s->dataDir() + "/postgresql.conf", std::ios::app);
  conf << "\nport = " << s->port_ << "\nunix_socket_directories = '" << dir
       << "'\narchive_mode = off\n";
  conf.close();
  // pg_basebackup -R wrote primary_conninfo to postgresql.auto.conf, which wins: override
  // it there, naming the standby so that synchronous_standby_names can select it.
  std::ofstream autoconf(s->dataDir() + "/postgresql.auto.conf", std::ios::app);
  autoconf << "primary_conninfo = 'host=127.0.0.1 port=" << primary.port()
           << " user=postgres application_name=standby1'\n";
  autoconf.close();
  s->ok_ = s->start();
  return s;
}

bool PostgresServer::start() {
  process_ = std::make_unique<Process>(asPostgres({binDir() + "/postgres", "-D", dataDir()}),
                                       dir_ + "/postgres.log");
  return waitFor(
      [&] {
        return runAs({binDir() + "/pg_isready", "-h", dir_, "-p", std::to_string(port_)},
                     dir_ + "/isready.log") == 0;
      },
      std::chrono::seconds(60));
}

std::string PostgresServer::psql(const std::string& sql) const {
  std::string out = dir_ + "/psql.out";
  if (runAs({binDir() + "/psql", "-h", dir_, "-p", std::to_string(port_), "-U", "postgres",
             "-d", "postgres", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql},
            out) != 0) {
    return "";
  }
  std::string s = slurp(out);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string PostgresServer::log() const {
  std::string out;
  for (const char* f : {"/initdb.log", "/basebackup.log", "/postgres.log"}) {
    std::string text = slurp(dir_ + f);
    if (!text.empty()) out += std::string("--- ") + (f + 1) + "\n" + text;
  }
  return out;
}

void PostgresServer::stop() {
  if (process_) process_->stop(2);  // SIGINT: fast shutdown
  process_.reset();
}

PostgresServer::~PostgresServer() { stop(); }

}  // namespace opsm::testing
