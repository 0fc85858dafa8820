#include "scorer/attestations.h"

#include <set>

#include "common/yaml_util.h"

namespace opsm::scorer {

namespace {

const Criterion* findCriterion(const RulePack& pack, const std::string& id) {
  for (const auto& item : pack.items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        if (c.id == id) return &c;
      }
    }
  }
  return nullptr;
}

Result<std::string> required(const std::string& file, const YAML::Node& n, const char* field) {
  auto s = readString(file, n, field);
  if (!s) return s.error();
  if (s->empty()) return fieldError(file, n, field, "is required");
  return s;
}

}  // namespace

namespace {

Result<std::vector<Evidence>> parseImpl(const YAML::Node& root, const std::string& path,
                                        const RulePack& pack, TimePoint now,
                                        const std::string& source) {
  if (!root.IsMap()) return fieldError(path, root, "attestations", "expected a mapping");
  if (auto st = checkKeys(path, root, {"attestations"}, "attestations file"); !st) {
    return st.error();
  }
  YAML::Node list = root["attestations"];
  if (!list.IsDefined() || list.IsNull()) return std::vector<Evidence>{};
  if (!list.IsSequence()) return fieldError(path, list, "attestations", "must be a list");
  std::vector<Evidence> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& a : list) {
    if (auto st = checkKeys(path, a,
                            {"system", "criterion", "met", "attested_by", "document", "date",
                             "expires", "note"},
                            "attestation");
        !st) {
      return st.error();
    }
    auto system = required(path, a, "system");
    if (!system) return system.error();
    if (std::string why; !isValidSystemName(*system, &why)) {
      return fieldError(path, a["system"], "system", "the system name " + why);
    }
    auto id = required(path, a, "criterion");
    if (!id) return id.error();
    const Criterion* c = findCriterion(pack, *id);
    if (!c) return fieldError(path, a["criterion"], "criterion", "no criterion " + *id + " in the rule pack");
    if (!c->attestation) {
      return fieldError(path, a["criterion"], "criterion",
                        *id + " is evidenced by collected evidence, not by attestation");
    }
    auto by = required(path, a, "attested_by");
    if (!by) return by.error();
    auto doc = required(path, a, "document");
    if (!doc) return doc.error();
    auto met = readBool(path, a, "met", true);
    if (!met) return met.error();
    auto date_text = required(path, a, "date");
    if (!date_text) return date_text.error();
    auto date = parseDate(*date_text);
    if (!date) return fieldError(path, a["date"], "date", date.error().message);
    if (*date > now) return fieldError(path, a["date"], "date", "is in the future");
    TimePoint expires = *date + c->attestation_max_age;
    if (a["expires"]) {
      auto e = parseDate(a["expires"].Scalar());
      if (!e) return fieldError(path, a["expires"], "expires", e.error().message);
      if (*e <= *date) return fieldError(path, a["expires"], "expires", "must be after date");
      expires = std::min(expires, *e);
    }
    if (!seen.insert({*system, *id}).second) {
      return fieldError(path, a, "criterion",
                        "a second attestation of " + *id + " for " + *system);
    }
    Evidence ev;
    ev.key = attestationKey(*id);
    ev.system = *system;
    ev.value = *met;
    ev.observed_at = *date;
    ev.expires_at = expires;
    ev.source = Source{source, where(path, a) + " by " + *by + ": " + *doc};
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace

Result<std::vector<Evidence>> loadAttestations(const std::string& path, const RulePack& pack, TimePoint now) {
  return guardYaml(path, [&]() -> Result<std::vector<Evidence>> {
    auto root = loadYamlFile(path);
    if (!root) return root.error();
    return parseImpl(*root, path, pack, now, kAttestationSource);
  });
}

Result<std::vector<Evidence>> parseAttestations(const YAML::Node& root, const std::string& origin,
                                                const RulePack& pack, TimePoint now,
                                                const std::string& source) {
  return guardYaml(origin, [&] { return parseImpl(root, origin, pack, now, source); });
}

}  // namespace opsm::scorer
