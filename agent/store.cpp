#include "agent/store.h"

#include <sqlite3.h>

#include <set>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "collectors/common/json.h"

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
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string col(int i) const {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  double num(int i) const { return sqlite3_column_double(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

std::string encodeValue(const scorer::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  collectors::writeValue(w, v);
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

std::map<std::string, scorer::CriterionState> decodeStates(const std::string& text) {
  std::map<std::string, scorer::CriterionState> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string st = line.substr(eq + 1);
    for (int s = 0; s < 4; ++s) {
      auto cs = static_cast<scorer::CriterionState>(s);
      if (st == scorer::criterionStateName(cs)) out[line.substr(0, eq)] = cs;
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return makeError(ErrorCode::kIo, path + ": cannot open the store: " + msg);
  }
  std::unique_ptr<Store> store(new Store(db, path));
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;",
                             "PRAGMA foreign_keys=ON;"}) {
    if (auto st = store->exec(pragma); !st) return st.error();
  }
  if (auto st = store->exec(kSchema); !st) return st.error();
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Status Store::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return makeError(ErrorCode::kIo, path_ + ": " + msg);
  }
  return Status::success();
}

Status Store::replaceEvidence(const std::string& collector,
                              const std::vector<scorer::Evidence>& ev) {
  std::lock_guard lock(mu_);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  auto fail = [&](const char* what) -> Status {
    std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
    (void)exec("ROLLBACK");
    return makeError(ErrorCode::kIo, msg);
  };
  {
    Stmt del(db_, "DELETE FROM evidence WHERE collector = ?");
    if (!del.ok()) return fail("prepare");
    del.text(1, collector);
    if (del.step() != SQLITE_DONE) return fail("delete evidence");
    Stmt ins(db_, "INSERT OR REPLACE INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!ins.ok()) return fail("prepare");
    for (const auto& e : ev) {
      ins.text(1, e.system).text(2, e.key).text(3, collector).text(4, e.source.locator)
          .text(5, encodeValue(e.value)).real(6, toSeconds(e.observed_at))
          .real(7, toSeconds(e.expires_at));
      if (ins.step() != SQLITE_DONE) return fail("insert evidence");
      ins.reset();
    }
  }
  if (auto st = exec("COMMIT"); !st) return fail("commit");
  return Status::success();
}

Result<std::vector<scorer::Evidence>> Store::loadEvidence() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT system, key, collector, locator, value, observed_at, expires_at FROM evidence");
  if (!q.ok()) return makeError(ErrorCode::kIo, path_ + ": " + sqlite3_errmsg(db_));
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
  if (rc != SQLITE_DONE) return makeError(ErrorCode::kIo, path_ + ": " + sqlite3_errmsg(db_));
  return out;
}

Status Store::recordScores(const std::vector<scorer::SystemScore>& scores, TimePoint now) {
  std::lock_guard lock(mu_);
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  auto fail = [&](const char* what) -> Status {
    std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
    (void)exec("ROLLBACK");
    return makeError(ErrorCode::kIo, msg);
  };
  auto changed = recorded_;
  {
    Stmt up(db_, "INSERT OR REPLACE INTO item_state VALUES (?, ?, ?, ?, ?, ?)");
    Stmt hist(db_, "INSERT INTO score_history VALUES (?, ?, ?, ?, ?)");
    if (!up.ok() || !hist.ok()) return fail("prepare");
    for (const auto& s : scores) {
      for (const auto& item : s.items) {
        auto key = std::make_pair(s.system, item.item);
        auto it = changed.find(key);
        if (it != changed.end() && it->second == std::make_pair(item.level, item.progress)) continue;
        std::map<std::string, scorer::CriterionState> states;
        for (const auto& c : item.criteria) states[c.criterion->id] = c.state;
        up.text(1, s.system).text(2, item.item).integer(3, item.level).real(4, item.progress)
            .text(5, encodeStates(states)).real(6, toSeconds(now));
        if (up.step() != SQLITE_DONE) return fail("record item state");
        up.reset();
        hist.real(1, toSeconds(now)).text(2, s.system).text(3, item.item).integer(4, item.level)
            .real(5, item.progress);
        if (hist.step() != SQLITE_DONE) return fail("record history");
        hist.reset();
        changed[key] = {item.level, item.progress};
      }
    }
  }
  if (auto st = exec("COMMIT"); !st) return fail("commit");
  recorded_ = std::move(changed);
  return Status::success();
}

Result<std::vector<Store::ItemState>> Store::loadItemStates() const {
  std::lock_guard lock(mu_);
  Stmt q(db_, "SELECT system, item, level, progress, states FROM item_state");
  if (!q.ok()) return makeError(ErrorCode::kIo, path_ + ": " + sqlite3_errmsg(db_));
  std::vector<ItemState> out;
  while (q.step() == SQLITE_ROW) {
    out.push_back({q.col(0), q.col(1), static_cast<int>(q.num(2)), q.num(3), decodeStates(q.col(4))});
  }
  return out;
}

Status Store::recordRegressions(const std::vector<scorer::RegressionEvent>& events) {
  std::lock_guard lock(mu_);
  if (events.empty()) return Status::success();
  if (auto st = exec("BEGIN IMMEDIATE"); !st) return st;
  {
    Stmt ins(db_, "INSERT INTO regressions VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& e : events) {
      std::string flipped;
      for (const auto& [id, why] : e.flipped) flipped += id + ": " + why + "\n";
      ins.real(1, toSeconds(e.at)).text(2, e.system).text(3, e.item).integer(4, e.old_level)
          .integer(5, e.new_level).text(6, flipped);
      if (ins.step() != SQLITE_DONE) {
        std::string msg = path_ + ": record regression: " + sqlite3_errmsg(db_);
        (void)exec("ROLLBACK");
        return makeError(ErrorCode::kIo, msg);
      }
      ins.reset();
    }
  }
  return exec("COMMIT");
}

Status Store::prune(TimePoint before) {
  std::lock_guard lock(mu_);
  Stmt a(db_, "DELETE FROM score_history WHERE at < ?");
  Stmt b(db_, "DELETE FROM regressions WHERE at < ?");
  a.real(1, toSeconds(before));
  b.real(1, toSeconds(before));
  if (a.step() != SQLITE_DONE || b.step() != SQLITE_DONE) {
    return makeError(ErrorCode::kIo, path_ + ": prune: " + sqlite3_errmsg(db_));
  }
  return Status::success();
}

Result<std::string> Store::exportSystem(
    const std::string& system,
    const std::map<std::string, std::vector<std::string>>& systems_from) const {
  std::lock_guard lock(mu_);
  // The sources that know the system: those with specific evidence of it, and those that
  // know the systems of one of them. Only their defaults count for it (attribution).
  std::set<std::string> knowers;
  {
    Stmt q(db_, "SELECT DISTINCT collector FROM evidence WHERE system = ?1");
    q.text(1, system);
    while (q.step() == SQLITE_ROW) knowers.insert(q.col(0));
    for (const auto& [collector, others] : systems_from) {
      for (const auto& o : others) {
        if (knowers.count(o)) knowers.insert(collector);
      }
    }
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("system");
  w.String(system.c_str());
  w.Key("evidence");
  w.StartArray();
  {
    // The system's own evidence, and for keys without any, the newest default of a source
    // that knows it (system '*', see scorer::kAnySystem): what the agent scores the system on.
    Stmt q(db_,
           "SELECT key, collector, locator, value, observed_at, expires_at, 0 FROM evidence "
           "WHERE system = ?1 "
           "UNION ALL SELECT d.key, d.collector, d.locator, d.value, d.observed_at, d.expires_at, 1 "
           "FROM evidence d WHERE d.system = '*' "
           "AND NOT EXISTS (SELECT 1 FROM evidence s WHERE s.system = ?1 AND s.key = d.key) "
           "ORDER BY 1, 7, 5 DESC");
    q.text(1, system);
    std::string last_default;
    while (q.step() == SQLITE_ROW) {
      const bool is_default = q.num(6) != 0;
      if (is_default && !knowers.count(q.col(1))) continue;  // a source that does not know it
      if (is_default && q.col(0) == last_default) continue;  // an older default of the key
      if (is_default) last_default = q.col(0);
      w.StartObject();
      w.Key("key");
      w.String(q.col(0).c_str());
      if (is_default) {
        w.Key("default");  // a source's word on every system it knows without saying so
        w.Bool(true);
      }
      w.Key("value");
      w.RawValue(q.col(3).c_str(), q.col(3).size(), rapidjson::kStringType);
      w.Key("source");
      w.StartObject();
      w.Key("collector");
      w.String(q.col(1).c_str());
      w.Key("locator");
      w.String(q.col(2).c_str());
      w.EndObject();
      w.Key("observed_at");
      w.String(formatTime(fromSeconds(q.num(4))).c_str());
      w.Key("expires_at");
      w.String(formatTime(fromSeconds(q.num(5))).c_str());
      w.EndObject();
    }
  }
  w.EndArray();
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
  w.EndObject();
  return std::string(buf.GetString());
}

}  // namespace opsm::agent
