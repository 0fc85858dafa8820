#include "collectors/restic/restic_collector.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "collectors/common/backups.h"
#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::restic {

namespace {

constexpr const char* kPrefix = "backup.restic.";

}  // namespace

Result<std::vector<scorer::Fact>> ResticCollector::collect(const CollectContext& ctx) {
  const std::string loc = "restic snapshots --json";
  auto out = runTool(config_.tool, {"snapshots", "--json", "--no-lock", "-r", config_.repository},
                     ctx);
  if (!out) {
    // restic says "wrong password or no key found": the credentials, not the repository.
    if (out.error().message.find("wrong password") != std::string::npos) {
      return makeError(ErrorCode::kUnauthenticated, out.error().message);
    }
    return out.error();
  }
  auto doc = parseJson(*out, "restic snapshots --json output");
  if (!doc) return doc.error();
  if (!doc->IsArray()) {
    return makeError(ErrorCode::kBadResponse, "restic snapshots --json: expected a JSON array");
  }
  BackupTally tally;
  const std::string tag_prefix = config_.system_tag + "=";
  for (const auto& snap : doc->GetArray()) {
    if (!snap.IsObject()) continue;
    auto t = parseTimestamp(stringMember(snap, "time"));
    if (!t) {
      return makeError(ErrorCode::kBadResponse,
                       "restic snapshots --json: snapshot " + stringMember(snap, "short_id") +
                           ": " + t.error().message);
    }
    std::set<std::string> owners;
    if (!config_.system.empty()) {
      owners.insert(config_.system);
    } else if (const auto* tags = arrayMember(snap, "tags")) {
      for (const auto& tag : tags->GetArray()) {
        if (!tag.IsString()) continue;
        std::string s = tag.GetString();
        if (s.rfind(tag_prefix, 0) == 0 && s.size() > tag_prefix.size()) {
          owners.insert(s.substr(tag_prefix.size()));
        }
      }
    }
    for (const auto& o : owners) tally.add(o, *t);
  }
  // A system we know of with no snapshot has none: that is evidence too.
  tally.known(config_.system.empty() ? scorer::kAnySystem : config_.system);

  std::optional<bool> check_ok;
  if (config_.check) {
    auto checked = runTool(config_.tool, {"check", "--no-lock", "-r", config_.repository}, ctx);
    if (!checked && checked.error().code == ErrorCode::kTimeout) return checked.error();
    check_ok = checked.ok();
  }

  std::vector<scorer::Fact> facts;
  tally.facts(kPrefix, "snapshots", ctx.now, loc, &facts);
  // The repository check speaks for the systems whose backups are in it.
  for (const auto& [system, e] : tally.bySystem()) {
    if (check_ok && e.count > 0) {
      facts.push_back(scorer::Fact{kPrefix + std::string("check_ok"), system, *check_ok, "restic check"});
    }
  }
  return facts;
}

namespace {

class ResticFactory : public CollectorFactory {
 public:
  std::string type() const override { return "restic"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"snapshots", ValueType::kNumber,
         "Snapshots of the system in the repository (`restic snapshots --json`; by `system`, or by the tag `<system_tag>=<system>`); 0 for a known system with none.",
         "backup.snapshots"},
        {"newest_age_seconds", ValueType::kNumber,
         "Seconds since the newest snapshot of the system was taken (absent when there is none).",
         "backup.newest_age_seconds"},
        {"oldest_age_seconds", ValueType::kNumber,
         "Seconds since the oldest snapshot kept was taken: how far back a restore can go.",
         "backup.oldest_age_seconds"},
        {"check_ok", ValueType::kBool,
         "`restic check` (repository structure) exited 0 on the last poll; only with `check: true`, for systems with backups in the repository.",
         "backup.check_ok"},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = repositoryKeys(
        "restic", "The repository: a path or anything `restic -r` accepts (sftp:, s3:, rest:...).",
        true, "Run `restic check` (structure only) at each poll.", "system_tag",
        "Snapshots tagged `<system_tag>=<name>` belong to system `<name>`.");
    keys.push_back(secretKey("password", "The repository's password.").isRequired());
    return ConfigSchema(
        "restic", std::move(keys),
        {repositoryOwner("system_tag",
                         "set exactly one of 'system' (every snapshot belongs to it) or "
                         "'system_tag' (snapshots tagged <system_tag>=<system>)")});
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    ResticConfig c;
    c.name = cfg.name();
    c.repository = cfg.string("repository");
    c.system = cfg.string("system");
    c.system_tag = cfg.string("system_tag");
    c.check = cfg.flag("check");
    c.tool.program = cfg.string("command");
    auto pw = cfg.secret("password");
    if (!pw) return pw.error();
    c.tool.env["RESTIC_PASSWORD"] = *pw;
    c.tool.secrets.push_back(*pw);
    // Never let the agent's own environment choose another repository or password source.
    for (const char* v : {"RESTIC_PASSWORD_FILE", "RESTIC_PASSWORD_COMMAND", "RESTIC_REPOSITORY",
                          "RESTIC_REPOSITORY_FILE"}) {
      c.tool.unset_env.push_back(v);
    }
    return std::unique_ptr<Collector>(std::make_unique<ResticCollector>(std::move(c)));
  }
};

}  // namespace

Status registerRestic(Registry& registry) {
  return registry.add(std::make_unique<ResticFactory>());
}

}  // namespace opsm::collectors::restic
