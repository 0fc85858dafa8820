#include "collectors/borg/borg_collector.h"

#include <algorithm>
#include <map>
#include <optional>

#include "collectors/common/backups.h"
#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::borg {

namespace {

constexpr const char* kPrefix = "backup.borg.";

}  // namespace

Result<std::vector<scorer::Fact>> BorgCollector::collect(const CollectContext& ctx) {
  const std::string loc = "borg list --json";
  auto out = runTool(config_.tool, {"list", "--json", "--bypass-lock", config_.repository}, ctx);
  if (!out) return out.error();
  auto doc = parseJson(*out, "borg list --json output");
  if (!doc) return doc.error();
  const auto* archives = doc->IsObject() ? arrayMember(*doc, "archives") : nullptr;
  if (!archives) {
    return makeError(ErrorCode::kBadResponse, "borg list --json: no \"archives\" array");
  }
  std::string encryption = "none";
  if (const auto* enc = objectMember(*doc, "encryption")) encryption = stringMember(*enc, "mode");

  BackupTally tally;
  for (const auto& a : archives->GetArray()) {
    if (!a.IsObject()) continue;
    std::string archive = stringMember(a, "name", stringMember(a, "archive"));
    // borg 1.x prints local time without a zone.
    auto t = parseTimestamp(stringMember(a, "time", stringMember(a, "start")), true);
    if (!t) {
      return makeError(ErrorCode::kBadResponse,
                       "borg list --json: archive " + archive + ": " + t.error().message);
    }
    std::string owner = config_.system;
    if (owner.empty()) {
      std::string group;
      if (config_.archive_regex.firstGroup(archive, &group)) owner = group;
    }
    if (owner.empty()) continue;
    tally.add(owner, *t);
  }
  // A system we know of with no archive has none (without `system`: the default).
  tally.known(config_.system.empty() ? scorer::kAnySystem : config_.system);

  // Repository-wide: its deduplicated, compressed size and when it last changed.
  auto info_out = runTool(config_.tool, {"info", "--json", "--bypass-lock", config_.repository}, ctx);
  if (!info_out) return info_out.error();
  auto info = parseJson(*info_out, "borg info --json output");
  if (!info) return info.error();
  std::optional<double> repo_bytes, repo_modified;
  if (const auto* cache = objectMember(*info, "cache")) {
    if (const auto* stats = objectMember(*cache, "stats")) {
      if (const auto* v = member(*stats, "unique_csize"); v && v->IsNumber()) repo_bytes = v->GetDouble();
    }
  }
  if (const auto* repo = objectMember(*info, "repository")) {
    if (auto t = parseTimestamp(stringMember(*repo, "last_modified"), true)) repo_modified = toSeconds(*t);
  }

  std::optional<bool> check_ok;
  if (config_.check) {
    auto checked = runTool(config_.tool, {"check", "--repository-only", config_.repository}, ctx);
    if (!checked && checked.error().code == ErrorCode::kTimeout) return checked.error();
    check_ok = checked.ok();
  }

  const double now = toSeconds(ctx.now);
  std::vector<scorer::Fact> facts;
  tally.facts(kPrefix, "archives", ctx.now, loc, &facts);
  for (const auto& entry : tally.bySystem()) {
    const auto& system = entry.first;  // not a structured binding: its lambda captures it
    const bool has_archives = entry.second.count > 0;
    auto add = [&](const char* key, scorer::Value v, const std::string& l) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), l});
    };
    add("encrypted", encryption != "none" && !encryption.empty(), loc);
    if (has_archives && repo_bytes) add("repository_bytes", *repo_bytes, "borg info --json");
    if (has_archives && repo_modified) {
      add("repository_modified_age_seconds", std::max(0.0, now - *repo_modified), "borg info --json");
    }
    // The repository check speaks for the systems whose backups are in it.
    if (check_ok && has_archives) add("check_ok", *check_ok, "borg check --repository-only");
  }
  return facts;
}

namespace {

class BorgFactory : public CollectorFactory {
 public:
  std::string type() const override { return "borg"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"archives", ValueType::kNumber,
         "Archives of the system in the repository (`borg list --json`; by `system`, or by the first capture group of `archive_regex` on the archive name); 0 for a known system with none.",
         "backup.snapshots"},
        {"newest_age_seconds", ValueType::kNumber,
         "Seconds since the newest archive of the system was made (absent when there is none).",
         "backup.newest_age_seconds"},
        {"oldest_age_seconds", ValueType::kNumber,
         "Seconds since the oldest archive kept was made: how far back a restore can go.",
         "backup.oldest_age_seconds"},
        {"repository_bytes", ValueType::kNumber,
         "Deduplicated, compressed size of the repository (`borg info --json` cache.stats.unique_csize), for systems with archives in it."},
        {"repository_modified_age_seconds", ValueType::kNumber,
         "Seconds since the repository last changed (`borg info --json` repository.last_modified), for systems with archives in it."},
        {"encrypted", ValueType::kBool,
         "The repository is encrypted (encryption mode other than none).",
         "backup.encrypted"},
        {"check_ok", ValueType::kBool,
         "`borg check --repository-only` exited 0 on the last poll; only with `check: true`, for systems with backups in the repository.",
         "backup.check_ok"},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = repositoryKeys(
        "borg", "The repository: a path or anything borg accepts (`ssh://...`).", false,
        "Run `borg check --repository-only` at each poll.", "archive_regex",
        "A regular expression (RE2) whose first capture group in an archive's name names its "
        "system.");
    keys.push_back(secretKey("passphrase", "The passphrase of an encrypted repository."));
    return ConfigSchema(
        "borg", std::move(keys),
        {repositoryOwner("archive_regex",
                         "set exactly one of 'system' (every archive belongs to it) or "
                         "'archive_regex' (its first capture group names the system)")});
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    BorgConfig c;
    c.name = cfg.name();
    c.repository = cfg.string("repository");
    c.system = cfg.string("system");
    c.check = cfg.flag("check");
    c.tool.program = cfg.string("command");
    if (cfg.has("archive_regex")) {
      auto compiled = Regex::compile(cfg.string("archive_regex"));
      if (!compiled) return cfg.error("archive_regex", compiled.error().message);
      c.archive_regex = std::move(*compiled);
      if (c.archive_regex.groups() < 1) {
        return cfg.error("archive_regex", "needs a capture group for the system name");
      }
    }
    auto pw = cfg.secret("passphrase");
    if (!pw) return pw.error();
    const bool present = cfg.has("passphrase");
    if (present) {
      c.tool.env["BORG_PASSPHRASE"] = *pw;
      c.tool.secrets.push_back(*pw);
    }
    c.tool.unset_env = {"BORG_PASSCOMMAND", "BORG_PASSPHRASE_FD", "BORG_REPO"};
    if (!present) c.tool.unset_env.push_back("BORG_PASSPHRASE");
    // Never prompt (stdin is /dev/null): the repository is the one the config names, and the
    // agent only reads it.
    c.tool.env["BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK"] = "yes";
    c.tool.env["BORG_RELOCATED_REPO_ACCESS_IS_OK"] = "yes";
    return std::unique_ptr<Collector>(std::make_unique<BorgCollector>(std::move(c)));
  }
};

}  // namespace

Status registerBorg(Registry& registry) { return registry.add(std::make_unique<BorgFactory>()); }

}  // namespace opsm::collectors::borg
