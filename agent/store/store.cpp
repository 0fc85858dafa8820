#include "agent/store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "collectors/common/json.h"
#include "scorer/json.h"

namespace opsm::agent {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS evidence (
  system TEXT NOT NULL, key TEXT NOT NULL, collector TEXT NOT NULL, locator TEXT NOT NULL,
  value TEXT NOT NULL, observed_at REAL NOT NULL, expires_at REAL NOT NULL,
  PRIMARY KEY (collector, system, key));
CREATE TABLE IF NOT EXISTS item_state (
  system TEXT NOT NULL, item TEXT NOT NULL, level INTEGER NOT NULL, progress REAL NOT NULL,
  states TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (system, item));
CREATE TABLE IF NOT EXISTS score_history (
  at REAL NOT NULL, system TEXT NOT NULL, item TEXT NOT NULL, level INTEGER NOT NULL,
  progress REAL NOT NULL);
CREATE INDEX IF NOT EXISTS score_history_system ON score_history (system, at);
CREATE TABLE IF NOT EXISTS regressions (
  at REAL NOT NULL, system TEXT NOT NULL, item TEXT NOT NULL, old_level INTEGER NOT NULL,
  new_level INTEGER NOT NULL, flipped TEXT NOT NULL);
)sql";

// Schema 2: attestations and waivers with their life (agent/ledger.h), each row the record as
// JSON beside the columns one filters on, and the append-only audit log: SQLite itself refuses
// to change or delete an audit row.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS attestations (
  id INTEGER PRIMARY KEY, system TEXT NOT NULL, criterion TEXT NOT NULL, state TEXT NOT NULL,
  record TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS waivers (
  id INTEGER PRIMARY KEY, system TEXT NOT NULL, criterion TEXT NOT NULL, state TEXT NOT NULL,
  record TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, system TEXT NOT NULL, subject TEXT NOT NULL, before TEXT NOT NULL,
  after TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_system ON audit (system, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& real(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& integer(int i, int v) {
    sqlite3_bind_int(s_, i, v);
    return *this;
  }
  Stmt& int64(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  sqlite3_stmt* raw() const { return s_; }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string col(int i) const {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  double num(int i) const { return sqlite3_column_double(s_, i); }
  int64_t int64(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

std::string encodeValue(const scorer::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  scorer::json::value(w, v);
  return buf.GetString();
}

std::optional<scorer::Value> decodeValue(const std::string& text) {
  auto parsed = collectors::parseJson(text, "stored evidence value");  // bounded depth
  if (!parsed) return std::nullopt;
  const rapidjson::Document& d = *parsed;
  if (d.IsBool()) return scorer::Value(d.GetBool());
  if (d.IsNumber()) return scorer::Value(d.GetDouble());
  if (d.IsString()) return scorer::Value(std::string(d.GetString()));
  if (d.IsArray()) {
    scorer::StringList l;
    for (const auto& e : d.GetArray()) {
      if (e.IsString()) l.push_back(e.GetString());
    }
    return scorer::Value(std::move(l));
  }
  return std::nullopt;
}

TimePoint fromSeconds(double s) {
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
}

std::string encodeStates(const std::map<std::string, scorer::CriterionState>& states) {
  std::string out;
  for (const auto& [id, st] : states) {
    out += id + "=" + scorer::criterionStateName(st) + "\n";
  }
  return out;
}

// The inverse of encodeStates(); a line it did not write is an error, not skipped: a baseline
// restored with a criterion missing would hide that criterion's regression.
Result<std::map<std::string, scorer::CriterionState>> decodeStates(const std::string& text) {
  std::map<std::string, scorer::CriterionState> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    auto eq = line.find('=');
    bool known = false;
    if (eq != std::string::npos && eq > 0) {
      std::string st = line.substr(eq + 1);
      for (auto cs : {scorer::CriterionState::kPass, scorer::CriterionState::kFail,
                      scorer::CriterionState::kUnknown, scorer::CriterionState::kNotApplicable}) {
        if (st == scorer::criterionStateName(cs)) {
          out[line.substr(0, eq)] = cs;
          known = true;
        }
      }
    }
    if (!known) return makeError(ErrorCode::kIo, "unreadable criterion state '" + line + "'");
  }
  return out;
}

}  // namespace

namespace {

// PRAGMA application_id of an opsmaturity store: "OPSM".
constexpr int kApplicationId = 0x4F50534D;

// The tables of the schema before it was versioned (user_version 0, application_id 0).
constexpr const char* kLegacyTables[] = {"evidence", "item_state", "score_history",
                                         "regressions"};

Result<long long> pragmaInt(sqlite3* db, const char* pragma, const std::string& path) {
  Stmt q(db, pragma);
  if (!q.ok() || q.step() != SQLITE_ROW) {
    return makeError(ErrorCode::kIo, path + ": not a readable store (" + sqlite3_errmsg(db) + ")");
  }
  return static_cast<long long>(sqlite3_column_int64(q.raw(), 0));
}

// What a check pragma (quick_check, integrity_check) found: its rows but "ok", and SQLite's
// error if it stopped before the end (empty: no damage); an error when it could not start
// (the file is not a database SQLite can read at all).
Result<std::vector<std::string>> checkProblems(sqlite3* db, const char* pragma,
                                               const std::string& path) {
  Stmt q(db, pragma);
  if (!q.ok()) return makeError(ErrorCode::kIo, path + ": " + sqlite3_errmsg(db));
  std::vector<std::string> problems;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    std::string row = q.col(0);
    if (row != "ok") problems.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) problems.push_back(sqlite3_errmsg(db));
  return problems;
}

// Creates a new store whole: schema and identity written in a temporary file that is linked
// into place, so that a crash never leaves a half-made (or empty) store behind.
Status createStore(const std::string& path) {
  const std::string tmp = path + ".new." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::string err;
  if (rc == SQLITE_OK) {
    const std::string sql = std::string("BEGIN;") + kSchema + kSchemaV2 + "PRAGMA application_id=" +
                            std::to_string(kApplicationId) + "; PRAGMA user_version=" +
                            std::to_string(Store::kSchemaVersion) + "; COMMIT;";
    char* e = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e) != SQLITE_OK) {
      err = e ? e : "unknown error";
      sqlite3_free(e);
    }
  } else {
    err = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  }
  sqlite3_close(db);
  // link, not rename: a store another agent created meanwhile is never replaced.
  if (err.empty() && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    err = std::strerror(errno);
  }
  ::unlink(tmp.c_str());
  if (!err.empty()) return makeError(ErrorCode::kIo, path + ": cannot create the store: " + err);
  return Status::success();
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, Access access) {
  const bool owner = access == Access::kOwner;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !owner) {
      return makeError(ErrorCode::kIo, path + ": cannot open the store: " + std::strerror(errno));
    }
    if (auto made = createStore(path); !made) return made.error();
  }
  // Closing any descriptor of the file drops this process's POSIX locks on it, SQLite's
  // included: a store this process already owns is refused before a descriptor is opened.
  static std::mutex owned_mu;
  static std::set<std::pair<dev_t, ino_t>> owned;
  if (::stat(path.c_str(), &st) != 0) {
    return makeError(ErrorCode::kIo, path + ": cannot open the store: " + std::strerror(errno));
  }
  const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
  auto inUse = [&](const std::string& how) {
    return makeError(ErrorCode::kIo, path + ": the store is in use by another opsmaturity agent (" +
                                         how + "); give each agent its own storage_path");
  };
  if (owner) {
    std::lock_guard lock(owned_mu);
    if (owned.count(id)) {
      return inUse("this process");
    }
  }
  int lock_fd = ::open(path.c_str(), (owner ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (lock_fd < 0) {
    return makeError(ErrorCode::kIo, path + ": cannot open the store: " + std::strerror(errno));
  }
  if (owner && ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(lock_fd);
    return inUse(std::strerror(e));
  }
  char header[16] = {};
  ssize_t got = ::pread(lock_fd, header, sizeof header, 0);
  if (::fstat(lock_fd, &st) != 0) st.st_size = -1;
  if (!owner) {
    ::close(lock_fd);  // before SQLite opens the file: no lock of its own to drop yet
    lock_fd = -1;
  }
  auto fail = [&](Error e) -> Error {
    if (lock_fd >= 0) ::close(lock_fd);
    return e;
  };
  // Refused, not reset: an empty file (a store truncated to 0 bytes) or something else.
  if (st.st_size == 0) {
    return fail(makeError(ErrorCode::kIo,
                          path + ": the store is empty (truncated?); refusing to start afresh "
                                 "over it: remove the file to start with no stored state"));
  }
  if (got != 16 || std::memcmp(header, "SQLite format 3", 16) != 0) {
    return fail(makeError(ErrorCode::kIo, path + ": not an opsmaturity store (not a SQLite "
                                                 "database); refusing to overwrite it"));
  }
  sqlite3* db = nullptr;
  int flags = owner ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return fail(makeError(ErrorCode::kIo, path + ": cannot open the store: " + msg));
  }
  std::unique_ptr<Store> store(new Store(db, path, lock_fd));
  if (owner) {
    std::lock_guard lock(owned_mu);
    owned.insert(id);
    store->owned_ = [id] {
      std::lock_guard l(owned_mu);
      owned.erase(id);
    };
  }
  sqlite3_busy_timeout(db, 5000);
  // Identified before anything is written: another program's database is refused as it was
  // found (switching it to WAL would change it for good).
  auto app = pragmaInt(db, "PRAGMA application_id", path);
  if (!app) return app.error();
  auto version = pragmaInt(db, "PRAGMA user_version", path);
  if (!version) return version.error();
  if (*app == 0 && *version == 0) {
    // Before versioning: ours only if it holds exactly our tables.
    std::string names;
    for (const char* t : kLegacyTables) names += std::string(names.empty() ? "'" : ", '") + t + "'";
    Stmt q(db, ("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (" + names +
                ")").c_str());
    if (!q.ok() || q.step() != SQLITE_ROW ||
        sqlite3_column_int(q.raw(), 0) != static_cast<int>(std::size(kLegacyTables))) {
      return makeError(ErrorCode::kIo,
                       path + ": not an opsmaturity store (a SQLite database of another "
                              "program); refusing to write into it");
    }
  } else if (*app != kApplicationId) {
    return makeError(ErrorCode::kIo,
                     path + ": not an opsmaturity store (application_id " + std::to_string(*app) +
                         "); refusing to write into it");
  }
  // A damaged page is noticed now, not by a write that goes on into it (or a read that fails
  // for good): quick_check reads every page, O(size), once per start.
  auto found = checkProblems(db, "PRAGMA quick_check(5)", path);
  const std::vector<std::string> damage =
      found ? *found : std::vector<std::string>{sqlite3_errmsg(db)};
  if (!damage.empty()) {
    std::string problems;
    for (const auto& p : damage) problems += (problems.empty() ? "" : "; ") + p;
    return makeError(ErrorCode::kIo, path + ": the store is damaged (" + problems +
                                         "); the agent will not write into it. Keep a copy, "
                                         "run `opsmaturity store check --config ...`, and "
                                         "recover it as docs/deploy.md#a-damaged-store says");
  }
  if (owner) {
    for (const char* pragma : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;",
                               "PRAGMA foreign_keys=ON;"}) {
      if (auto ok = store->exec(pragma); !ok) return ok.error();
    }
  }
  if (*version > kSchemaVersion) {
    return makeError(ErrorCode::kIo,
                     path + ": written by a newer opsmaturity (store schema " +
                         std::to_string(*version) + "; this one knows up to " +
                         std::to_string(kSchemaVersion) + ")");
  }
  if (*version < kSchemaVersion) {
    if (!owner) {
      return makeError(ErrorCode::kIo,
                       path + ": store schema " + std::to_string(*version) +
                           " is older than this opsmaturity's; start the agent once to "
                           "migrate it");
    }
    // Migrations, each from version N to N+1, in one transaction with the version bump.
    static const char* kMigrations[] = {
        // 0 -> 1: the unversioned schema gets its identity; the tables are unchanged.
        "",
        // 1 -> 2: attestations, waivers and the audit log.
        kSchemaV2,
    };
    static_assert(std::size(kMigrations) == kSchemaVersion);
    for (long long v = *version; v < kSchemaVersion; ++v) {
      std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                        "PRAGMA application_id=" + std::to_string(kApplicationId) +
                        "; PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
      if (auto ok = store->exec(sql); !ok) {
        (void)store->exec("ROLLBACK");
        return makeError(ErrorCode::kIo, "migrating the store to schema " +
                                             std::to_string(v + 1) + ": " + ok.error().message);
      }
    }
  }
  return store;
}

Store::~Store() {
  sqlite3_close(db_);
  if (owned_) owned_();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // after SQLite's descriptors: its locks are gone
}

Status Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    noteError();
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return makeError(ErrorCode::kIo, path_ + ": " + msg);
  }
  return Status::success();
}

void Store::noteError() const {
  const int code = sqlite3_errcode(db_) & 0xff;
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) corrupt_ = true;
}

Status Store::sqlError(const char* what) const {
  noteError();
  return makeError(ErrorCode::kIo, path_ + ": " + what + ": " + sqlite3_errmsg(db_));
}

Result<std::vector<std::string>> Store::check(const std::string& path) {
  sqlite3* db = nullptr;
  // immutable=1 would skip the WAL; a plain read-only open reads it as the agent does.
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> hold(db, sqlite3_close);
  if (rc != SQLITE_OK) {
    return makeError(ErrorCode::kIo, path + ": cannot open: " +
                                         std::string(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db, 5000);
  return checkProblems(db, "PRAGMA integrity_check(100)", path);
}

Status Store::transaction(const std::function<Status()>& body) {
  if (auto st = exec("BEGIN IMMEDIATE"); !st) {
    ++errors_;
    return st;
  }
  Status st = body();
  if (st) st = exec("COMMIT");
  if (!st) {
    ++errors_;
    // Nothing of it is kept, and no transaction is left open for the next write to join.
    if (sqlite3_get_autocommit(db_) == 0) (void)exec("ROLLBACK");
  }
  return st;
}

Status Store::replaceEvidence(const std::string& collector,
                              const std::vector<scorer::Evidence>& ev) {
  std::lock_guard lock(mu_);
  return transaction([&]() -> Status {
    Stmt del(db_, "DELETE FROM evidence WHERE collector = ?");
    if (!del.ok()) return sqlError("prepare");
    del.text(1, collector);
    if (del.step() != SQLITE_DONE) return sqlError("delete evidence");
    Stmt ins(db_, "INSERT OR REPLACE INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!ins.ok()) return sqlError("prepare");
    for (const auto& e : ev) {
      ins.text(1, e.system).text(2, e.key).text(3, collector).text(4, e.source.locator)
          .text(5, encodeValue(e.value)).real(6, toSeconds(e.observed_at))
          .real(7, toSeconds(e.expires_at));
      if (ins.step() != SQLITE_DONE) return sqlError("insert evidence");
      ins.reset();
    }
    return Status::success();
  });
}

Result<std::vector<scorer::Evidence>> Store::loadEvidence() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT system, key, collector, locator, value, observed_at, expires_at FROM evidence");
  if (!q.ok()) return sqlError("read").error();
  std::vector<scorer::Evidence> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto v = decodeValue(q.col(4));
    if (!v) continue;  // a row we cannot read is skipped, not fatal
    scorer::Evidence e;
    e.system = q.col(0);
    e.key = q.col(1);
    e.source = scorer::Source{q.col(2), q.col(3)};
    e.value = std::move(*v);
    e.observed_at = fromSeconds(q.num(5));
    e.expires_at = fromSeconds(q.num(6));
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sqlError("read").error();
  return out;
}

Status Store::recordScores(const std::vector<scorer::SystemScore>& scores,
                           const std::vector<Baseline>& baselines, TimePoint now) {
  std::lock_guard lock(mu_);
  // What this write adds to recorded_, applied once it commits (after a rollback, the next
  // call writes the same history again).
  std::vector<std::pair<std::pair<std::string, std::string>, std::pair<int, double>>> recorded;
  Status st = transaction([&]() -> Status {
    Stmt up(db_, "INSERT OR REPLACE INTO item_state VALUES (?, ?, ?, ?, ?, ?)");
    Stmt del(db_, "DELETE FROM item_state WHERE system = ? AND item = ?");
    Stmt hist(db_, "INSERT INTO score_history VALUES (?, ?, ?, ?, ?)");
    if (!up.ok() || !del.ok() || !hist.ok()) return sqlError("prepare");
    for (const auto& b : baselines) {
      if (b.removed) {
        del.text(1, b.system).text(2, b.item);
        if (del.step() != SQLITE_DONE) return sqlError("forget item state");
        del.reset();
        continue;
      }
      up.text(1, b.system).text(2, b.item).integer(3, b.level).real(4, b.level)
          .text(5, encodeStates(b.states)).real(6, toSeconds(now));
      if (up.step() != SQLITE_DONE) return sqlError("record item state");
      up.reset();
    }
    for (const auto& s : scores) {
      for (const auto& item : s.items) {
        auto key = std::make_pair(s.system, item.item);
        auto it = recorded_.find(key);
        if (it != recorded_.end() && it->second == std::make_pair(item.level, item.progress)) continue;
        hist.real(1, toSeconds(now)).text(2, s.system).text(3, item.item).integer(4, item.level)
            .real(5, item.progress);
        if (hist.step() != SQLITE_DONE) return sqlError("record history");
        hist.reset();
        recorded.emplace_back(std::move(key), std::make_pair(item.level, item.progress));
      }
    }
    return Status::success();
  });
  if (st) {
    for (auto& [key, value] : recorded) recorded_[std::move(key)] = value;
  }
  return st;
}

Result<std::vector<Store::ItemState>> Store::loadItemStates() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT system, item, level, states FROM item_state");
  if (!q.ok()) return sqlError("read item states").error();
  std::vector<ItemState> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    auto states = decodeStates(q.col(3));
    if (!states) {
      return makeError(ErrorCode::kIo, path_ + ": item state of " + q.col(0) + " " + q.col(1) +
                                           " is unreadable: " + states.error().message);
    }
    out.push_back({q.col(0), q.col(1), static_cast<int>(q.int64(2)), std::move(*states)});
  }
  if (rc != SQLITE_DONE) return sqlError("read item states").error();
  return out;
}

Status Store::recordRegressions(const std::vector<scorer::RegressionEvent>& events) {
  std::lock_guard lock(mu_);
  if (events.empty()) return Status::success();
  return transaction([&]() -> Status {
    Stmt ins(db_, "INSERT INTO regressions VALUES (?, ?, ?, ?, ?, ?)");
    if (!ins.ok()) return sqlError("prepare");
    for (const auto& e : events) {
      std::string flipped;
      for (const auto& [id, why] : e.flipped) flipped += id + ": " + why + "\n";
      ins.real(1, toSeconds(e.at)).text(2, e.system).text(3, e.item).integer(4, e.old_level)
          .integer(5, e.new_level).text(6, flipped);
      if (ins.step() != SQLITE_DONE) return sqlError("record regression");
      ins.reset();
    }
    return Status::success();
  });
}

Result<std::vector<Store::HistoryRow>> Store::loadHistory(const std::string& system) const {
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT at, system, item, level, progress FROM score_history "
         "WHERE ?1 = '' OR system = ?1 ORDER BY at, rowid");
  if (!q.ok()) return sqlError("read").error();
  q.text(1, system);
  std::vector<HistoryRow> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back({fromSeconds(q.num(0)), q.col(1), q.col(2), static_cast<int>(q.num(3)), q.num(4)});
  }
  if (rc != SQLITE_DONE) return sqlError("read").error();
  return out;
}

Status Store::write(const std::vector<RecordWrite>& records,
                    const std::vector<AuditEntry>& audit, TimePoint now) {
  std::lock_guard lock(mu_);
  return transaction([&]() -> Status {
    Stmt att(db_, "INSERT OR REPLACE INTO attestations VALUES (?, ?, ?, ?, ?, ?)");
    Stmt wai(db_, "INSERT OR REPLACE INTO waivers VALUES (?, ?, ?, ?, ?, ?)");
    Stmt log(db_,
             "INSERT INTO audit (at, actor, action, system, subject, before, after) "
             "VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!att.ok() || !wai.ok() || !log.ok()) return sqlError("prepare");
    for (const auto& r : records) {
      Stmt& q = r.table == Table::kAttestations ? att : wai;
      q.int64(1, r.id).text(2, r.system).text(3, r.criterion).text(4, r.state).text(5, r.record)
          .real(6, toSeconds(now));
      if (q.step() != SQLITE_DONE) return sqlError("write record");
      q.reset();
    }
    for (const auto& a : audit) {
      log.real(1, toSeconds(a.at)).text(2, a.actor).text(3, a.action).text(4, a.system)
          .text(5, a.subject).text(6, a.before).text(7, a.after);
      if (log.step() != SQLITE_DONE) return sqlError("append to the audit log");
      log.reset();
    }
    return Status::success();
  });
}

Result<std::vector<std::string>> Store::loadRecords(Table table) const {
  std::lock_guard lock(mu_);
  Stmt q(db_, table == Table::kAttestations ? "SELECT record FROM attestations ORDER BY id"
                                            : "SELECT record FROM waivers ORDER BY id");
  if (!q.ok()) return sqlError("read").error();
  std::vector<std::string> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.col(0));
  if (rc != SQLITE_DONE) return sqlError("read").error();
  return out;
}

Result<std::vector<Store::AuditEntry>> Store::loadAudit(const std::string& system,
                                                        int64_t before_seq, size_t limit) const {
  std::lock_guard lock(mu_);
  Stmt q(db_,
         "SELECT seq, at, actor, action, system, subject, before, after FROM audit "
         "WHERE (?1 = 0 OR seq < ?1) AND (?2 = '' OR system = ?2 OR system = '') "
         "ORDER BY seq DESC LIMIT ?3");
  if (!q.ok()) return sqlError("read").error();
  q.int64(1, before_seq).text(2, system).int64(3, static_cast<int64_t>(limit));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(AuditEntry{q.int64(0), fromSeconds(q.num(1)), q.col(2), q.col(3), q.col(4),
                             q.col(5), q.col(6), q.col(7)});
  }
  if (rc != SQLITE_DONE) return sqlError("read").error();
  return out;
}

Status Store::prune(TimePoint before) {
  std::lock_guard lock(mu_);
  return transaction([&]() -> Status {
    for (const char* sql : {"DELETE FROM score_history WHERE at < ?",
                            "DELETE FROM regressions WHERE at < ?"}) {
      Stmt q(db_, sql);
      if (!q.ok()) return sqlError("prepare");
      q.real(1, toSeconds(before));
      if (q.step() != SQLITE_DONE) return sqlError("prune");
    }
    return Status::success();
  });
}

Result<std::string> Store::exportSystem(
    const std::string& system,
    const std::map<std::string, std::vector<std::string>>& systems_from, TimePoint now) const {
  std::lock_guard lock(mu_);
  // The system's evidence as the agent scores it, decided by the agent's own code
  // (scorer::EvidenceStore::visit), not a second copy of its rules: its own, and for keys it
  // has none of, the defaults (system '*') of the sources that know it (attribution), the
  // newest first. Collectors are loaded oldest first, so that of two reporting the same key of
  // the system the newer wins, as in the running agent.
  scorer::EvidenceStore evidence;
  {
    Stmt q(db_,
           "SELECT system, key, collector, locator, value, observed_at, expires_at FROM evidence "
           "WHERE system = ?1 OR system = ?2");
    if (!q.ok()) return sqlError("read evidence").error();
    q.text(1, system).text(2, scorer::kAnySystem);
    std::map<std::string, std::vector<scorer::Evidence>> by_collector;
    std::map<std::string, double> newest;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      auto v = decodeValue(q.col(4));
      if (!v) continue;  // a row that cannot be read is skipped, as at restore
      scorer::Evidence e;
      e.system = q.col(0);
      e.key = q.col(1);
      e.source = scorer::Source{q.col(2), q.col(3)};
      e.value = std::move(*v);
      e.observed_at = fromSeconds(q.num(5));
      e.expires_at = fromSeconds(q.num(6));
      newest[e.source.collector] = std::max(newest[e.source.collector], q.num(5));
      by_collector[e.source.collector].push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return sqlError("read evidence").error();
    std::vector<std::pair<double, std::string>> order;
    for (const auto& [collector, at] : newest) order.emplace_back(at, collector);
    std::sort(order.begin(), order.end());
    for (const auto& [at, collector] : order) {
      evidence.replaceFromCollector(collector, std::move(by_collector[collector]));
    }
    for (const auto& [collector, others] : systems_from) {
      if (!others.empty()) evidence.setSystemsFrom(collector, others);
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("schema_version");
  w.Int(scorer::json::kSchemaVersion);
  w.Key("system");
  w.String(system.c_str());
  w.Key("evidence");
  scorer::json::systemEvidence(w, evidence, system, now);
  w.Key("history");
  w.StartArray();
  {
    Stmt q(db_, "SELECT at, item, level, progress FROM score_history WHERE system = ? ORDER BY at, item");
    q.text(1, system);
    while (q.step() == SQLITE_ROW) {
      w.StartObject();
      w.Key("at");
      w.String(formatTime(fromSeconds(q.num(0))).c_str());
      w.Key("item");
      w.String(q.col(1).c_str());
      w.Key("level");
      w.Int(static_cast<int>(q.num(2)));
      w.Key("progress");
      w.Double(q.num(3));
      w.EndObject();
    }
  }
  w.EndArray();
  w.Key("regressions");
  w.StartArray();
  {
    Stmt q(db_, "SELECT at, item, old_level, new_level, flipped FROM regressions WHERE system = ? ORDER BY at");
    q.text(1, system);
    while (q.step() == SQLITE_ROW) {
      w.StartObject();
      w.Key("at");
      w.String(formatTime(fromSeconds(q.num(0))).c_str());
      w.Key("item");
      w.String(q.col(1).c_str());
      w.Key("old_level");
      w.Int(static_cast<int>(q.num(2)));
      w.Key("new_level");
      w.Int(static_cast<int>(q.num(3)));
      w.Key("flipped");
      w.String(q.col(4).c_str());
      w.EndObject();
    }
  }
  w.EndArray();
  // What people said of the system (attestations, waivers: every state, for the record) and
  // the audit log of every write about it and of agent-wide ones (reloads), oldest first.
  for (const auto& [key, table] : {std::pair{"attestations", "attestations"},
                                   std::pair{"waivers", "waivers"}}) {
    w.Key(key);
    w.StartArray();
    Stmt q(db_, (std::string("SELECT record FROM ") + table + " WHERE system = ? ORDER BY id").c_str());
    q.text(1, system);
    while (q.step() == SQLITE_ROW) {
      std::string record = q.col(0);
      w.RawValue(record.c_str(), record.size(), rapidjson::kObjectType);
    }
    w.EndArray();
  }
  w.Key("audit");
  w.StartArray();
  {
    Stmt q(db_,
           "SELECT seq, at, actor, action, system, subject, before, after FROM audit "
           "WHERE system = ? OR system = '' ORDER BY seq");
    q.text(1, system);
    while (q.step() == SQLITE_ROW) {
      w.StartObject();
      w.Key("seq");
      w.Int64(q.int64(0));
      w.Key("at");
      w.String(formatTime(fromSeconds(q.num(1))).c_str());
      w.Key("actor");
      w.String(q.col(2).c_str());
      w.Key("action");
      w.String(q.col(3).c_str());
      w.Key("system");
      w.String(q.col(4).c_str());
      w.Key("subject");
      w.String(q.col(5).c_str());
      for (int c : {6, 7}) {
        w.Key(c == 6 ? "before" : "after");
        std::string v = q.col(c);
        if (v.empty()) {
          w.Null();
        } else {
          w.RawValue(v.c_str(), v.size(), rapidjson::kObjectType);
        }
      }
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString());
}

}  // namespace opsm::agent
