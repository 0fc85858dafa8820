#include "collectors/pgbackrest/pgbackrest_collector.h"

#include <algorithm>

#include "collectors/common/backups.h"
#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::pgbackrest {

namespace {

constexpr const char* kPrefix = "backup.pgbackrest.";

double numberOf(const rapidjson::Value& obj, const char* name) {
  const auto* v = member(obj, name);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}

}  // namespace

Result<std::vector<scorer::Fact>> PgBackRestCollector::collect(const CollectContext& ctx) {
  std::vector<std::string> base;
  if (!config_.config_file.empty()) base.push_back("--config=" + config_.config_file);
  std::vector<std::string> args = base;
  args.insert(args.end(), {"info", "--output=json"});
  auto out = runTool(config_.tool, args, ctx);
  if (!out) return out.error();
  auto doc = parseJson(*out, "pgbackrest info --output=json output");
  if (!doc) return doc.error();
  if (!doc->IsArray()) {
    return makeError(ErrorCode::kBadResponse, "pgbackrest info: expected a JSON array of stanzas");
  }
  const std::string loc = "pgbackrest info --output=json";
  double now = toSeconds(ctx.now);
  std::vector<scorer::Fact> facts;
  // Backups, newest and oldest per system (the helper restic and borg use too); the rest is
  // pgBackRest's own: backup types, WAL, status, cipher.
  BackupTally tally;
  for (const auto& st : doc->GetArray()) {
    if (!st.IsObject()) continue;
    std::string stanza = stringMember(st, "name");
    std::string system = stanza;
    if (!config_.stanzas.empty()) {
      auto it = config_.stanzas.find(stanza);
      if (it == config_.stanzas.end()) continue;
      system = it->second;
    }
    if (system.empty()) continue;
    auto add = [&](const char* key, scorer::Value v, const std::string& l) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), l});
    };
    int code = -1;
    if (const auto* status = objectMember(st, "status")) code = static_cast<int>(numberOf(*status, "code"));
    tally.known(system);
    int backups = 0, full = 0;
    double newest = -1, newest_full = -1, newest_diff = -1, newest_incr = -1;
    std::string newest_wal_stop;
    if (const auto* list = arrayMember(st, "backup")) {
      for (const auto& b : list->GetArray()) {
        if (!b.IsObject()) continue;
        const auto* err = member(b, "error");
        if (err && err->IsBool() && err->GetBool()) continue;  // a backup with errors is no backup
        const auto* ts = objectMember(b, "timestamp");
        if (!ts) continue;
        double stop = numberOf(*ts, "stop");
        ++backups;
        tally.add(system, TimePoint(std::chrono::duration_cast<TimePoint::duration>(
                              std::chrono::duration<double>(stop))));
        std::string type = stringMember(b, "type");
        if (type == "full") {
          ++full;
          newest_full = std::max(newest_full, stop);
        }
        if (type == "diff") newest_diff = std::max(newest_diff, stop);
        if (type == "incr") newest_incr = std::max(newest_incr, stop);
        if (stop > newest) {
          newest = stop;
          if (const auto* a = objectMember(b, "archive")) newest_wal_stop = stringMember(*a, "stop");
        }
      }
    }
    // WAL archived after the newest backup makes point-in-time recovery possible from it.
    std::string wal_max;
    if (const auto* archives = arrayMember(st, "archive")) {
      for (const auto& a : archives->GetArray()) {
        if (a.IsObject()) wal_max = std::max(wal_max, stringMember(a, "max"));
      }
    }
    // WAL segment names are fixed-width hex (timeline, log, segment), so they compare as
    // strings. An archive that ends at the newest backup's stop segment is the backup's own
    // WAL: it restores to that backup, not to any later time.
    const bool wal_past_backup =
        code == 0 && backups > 0 && !wal_max.empty() && !newest_wal_stop.empty() &&
        wal_max.substr(std::min<size_t>(8, wal_max.size())) >
            newest_wal_stop.substr(std::min<size_t>(8, newest_wal_stop.size()));
    add("status_ok", code == 0, loc);
    add("full_backups", full, loc);
    if (newest >= 0) {
      // pgBackRest backs up databases: its backups are database backups (a domain key of
      // their own, which file backups of the same system do not give)
      facts.push_back(
          scorer::Fact{"database.backup_age_seconds", system, std::max(0.0, now - newest), loc});
    }
    if (newest_full >= 0) add("newest_full_age_seconds", std::max(0.0, now - newest_full), loc);
    if (newest_diff >= 0) add("newest_diff_age_seconds", std::max(0.0, now - newest_diff), loc);
    if (newest_incr >= 0) add("newest_incr_age_seconds", std::max(0.0, now - newest_incr), loc);
    add("wal_past_newest_backup", wal_past_backup, loc);
    add("encrypted", stringMember(st, "cipher", "none") != "none", loc);
    if (config_.check) {
      std::vector<std::string> cargs = base;
      cargs.insert(cargs.end(), {"--stanza=" + stanza, "check"});
      auto checked = runTool(config_.tool, cargs, ctx);
      if (!checked && checked.error().code == ErrorCode::kTimeout) return checked.error();
      const std::string check_loc = "pgbackrest --stanza=" + stanza + " check";
      add("check_ok", checked.ok(), check_loc);
      // `check` archives a fresh WAL segment and waits for it: the archive is current now.
      add("pitr_possible", wal_past_backup && checked.ok(), loc + " + " + check_loc);
    } else if (!wal_past_backup) {
      // Whether an archive past the backup is still current, `info` does not say: without
      // `check` only its absence is known.
      add("pitr_possible", false, loc);
    }
  }
  tally.facts(kPrefix, "backups", ctx.now, loc, &facts);
  return facts;
}

namespace {

class PgBackRestFactory : public CollectorFactory {
 public:
  std::string type() const override { return "pgbackrest"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    auto keys = describeKeys("", type(), {
        {"database.backup_age_seconds", ValueType::kNumber, "Seconds since the newest backup of the stanza (any type) finished."},
    });
    auto vendor = describeKeys(kPrefix, type(), {
        {"status_ok", ValueType::kBool, "The stanza's status code in `pgbackrest info --output=json` is 0 (ok)."},
        {"backups", ValueType::kNumber, "Backups of the stanza without errors (full, diff and incr).",
         "backup.snapshots"},
        {"full_backups", ValueType::kNumber, "Full backups of the stanza without errors."},
        {"newest_age_seconds", ValueType::kNumber, "Seconds since the newest backup (any type) finished.",
         "backup.newest_age_seconds"},
        {"newest_full_age_seconds", ValueType::kNumber, "Seconds since the newest full backup finished."},
        {"newest_diff_age_seconds", ValueType::kNumber, "Seconds since the newest differential backup finished (absent without one)."},
        {"newest_incr_age_seconds", ValueType::kNumber, "Seconds since the newest incremental backup finished (absent without one)."},
        {"oldest_age_seconds", ValueType::kNumber, "Seconds since the oldest backup kept finished: how far back a restore can go.",
         "backup.oldest_age_seconds"},
        {"pitr_possible", ValueType::kBool, "Point-in-time recovery is possible: status ok, a backup, a WAL archive that goes past the newest backup's stop segment (not one that ends there), and current: `check` (check: true) archived a fresh segment. False when the archive ends at the newest backup; absent when it goes past it but `check` is off (whether it is current is unknown).",
         "backup.pitr_possible"},
        {"encrypted", ValueType::kBool, "The repository is encrypted (cipher other than none).",
         "backup.encrypted"},
        {"wal_past_newest_backup", ValueType::kBool, "The stanza's WAL archive goes past the newest backup's stop segment (pgbackrest info: archive max > the backup's archive stop)."},
        {"check_ok", ValueType::kBool, "`pgbackrest check` (configuration and WAL archiving) exited 0 on the last poll; only with `check: true`.",
         "backup.check_ok"},
    });
    keys.insert(keys.end(), vendor.begin(), vendor.end());
    return keys;
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "pgbackrest",
        {
            stringKey("config_file", "pgBackRest's configuration, passed as `--config` "
                                     "(pgBackRest's own default when not set)."),
            mapKey("stanzas", "Stanza names and the system each belongs to (every stanza, named "
                              "as is, when not set)."),
            boolKey("check", "Run `pgbackrest --stanza=S check` per stanza at each poll (needs "
                             "the database).")
                .defaults("false"),
            stringKey("command", "The pgbackrest program.").defaults("pgbackrest").nonEmpty(),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    PgBackRestConfig c;
    c.name = cfg.name();
    c.config_file = cfg.string("config_file");
    if (const YAML::Node s = cfg.node("stanzas")) {
      for (const auto& kv : s) {
        if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
          return fieldError(cfg.file(), kv.second, "stanzas." + kv.first.Scalar(),
                            "must be a system name");
        }
        c.stanzas[kv.first.Scalar()] = kv.second.Scalar();
      }
    }
    c.check = cfg.flag("check");
    c.tool.program = cfg.string("command");
    return std::unique_ptr<Collector>(std::make_unique<PgBackRestCollector>(std::move(c)));
  }
};

}  // namespace

Status registerPgBackRest(Registry& registry) {
  return registry.add(std::make_unique<PgBackRestFactory>());
}

}  // namespace opsm::collectors::pgbackrest
