#include "scorer/attestations.h"

#include <set>

#include "common/secrets.h"
#include "common/yaml_util.h"

namespace opsm::scorer {

namespace {

Result<std::string> required(const std::string& file, const YAML::Node& n, const char* field) {
  auto s = readString(file, n, field);
  if (!s) return s.error();
  if (s->empty()) return fieldError(file, n, field, "is required");
  return s;
}

Result<std::vector<Attestation>> parseImpl(const YAML::Node& root, const std::string& path,
                                           const RulePack& pack, TimePoint now) {
  if (!root.IsMap()) return fieldError(path, root, "attestations", "expected a mapping");
  if (auto st = checkKeys(path, root, {"attestations"}, "attestations file"); !st) {
    return st.error();
  }
  YAML::Node list = root["attestations"];
  if (!list.IsDefined() || list.IsNull()) return std::vector<Attestation>{};
  if (!list.IsSequence()) return fieldError(path, list, "attestations", "must be a list");
  std::vector<Attestation> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& a : list) {
    if (auto st = checkKeys(path, a,
                            {"system", "criterion", "met", "attested_by", "approved_by",
                             "document", "date", "expires", "note", "comment"},
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
    if (!c) {
      return fieldError(path, a["criterion"], "criterion",
                        "no criterion " + *id + " in the rule pack");
    }
    if (!c->attestation) {
      return fieldError(path, a["criterion"], "criterion",
                        *id + " is evidenced by collected evidence, not by attestation");
    }
    auto by = required(path, a, "attested_by");
    if (!by) return by.error();
    auto approved_by = readString(path, a, "approved_by");
    if (!approved_by) return approved_by.error();
    auto doc = required(path, a, "document");
    if (!doc) return doc.error();
    auto met = readBool(path, a, "met", true);
    if (!met) return met.error();
    auto note = readString(path, a, "note");
    if (!note) return note.error();
    auto comment = readString(path, a, "comment", *note);
    if (!comment) return comment.error();
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
    Attestation att;
    att.origin = where(path, a);
    att.system = *system;
    att.criterion = *id;
    att.met = *met;
    att.attested_by = *by;
    att.approved_by = *approved_by;
    att.document = redactSecrets(*doc);  // URL userinfo is never shown
    att.comment = *comment;
    att.date = *date;
    att.expires = expires;
    att.state = approved_by->empty() ? "pending" : "approved";
    att.created_at = *date;
    out.push_back(std::move(att));
  }
  return out;
}

}  // namespace

std::string effectiveState(const Attestation& a, TimePoint now) {
  if ((a.state == "pending" || a.state == "approved") && now >= a.expires) return "expired";
  return a.state;
}

bool counts(const Attestation& a, TimePoint now, bool require_approval) {
  const std::string state = effectiveState(a, now);
  if (state == "approved") {
    return !require_approval || (!a.approved_by.empty() && a.approved_by != a.attested_by);
  }
  return state == "pending" && !require_approval;
}

Evidence attestationEvidence(const Attestation& a, const std::string& source) {
  Evidence ev;
  ev.key = attestationKey(a.criterion);
  ev.system = a.system;
  ev.value = a.met;
  ev.observed_at = a.date;
  ev.expires_at = a.expires;
  std::string who = (a.id ? "attestation #" + std::to_string(a.id) : a.origin) + " by " +
                    a.attested_by;
  if (a.state == "approved" && !a.approved_by.empty()) who += ", approved by " + a.approved_by;
  if (a.state == "pending") who += ", not approved";
  ev.source = Source{source, who + ": " + a.document,
                     source == kApiAttestationSource ? SourceKind::kAttestationApi
                                                     : SourceKind::kAttestationFile};
  return ev;
}

Result<std::vector<Attestation>> loadAttestationFile(const std::string& path,
                                                     const RulePack& pack, TimePoint now) {
  return guardYaml(path, [&]() -> Result<std::vector<Attestation>> {
    auto root = loadYamlFile(path);
    if (!root) return root.error();
    return parseImpl(*root, path, pack, now);
  });
}

Result<std::vector<Attestation>> parseAttestationRecords(const YAML::Node& root,
                                                         const std::string& origin,
                                                         const RulePack& pack, TimePoint now) {
  return guardYaml(origin, [&] { return parseImpl(root, origin, pack, now); });
}

Result<std::vector<Evidence>> loadAttestations(const std::string& path, const RulePack& pack,
                                               TimePoint now) {
  auto records = loadAttestationFile(path, pack, now);
  if (!records) return records.error();
  std::vector<Evidence> out;
  for (const auto& a : *records) out.push_back(attestationEvidence(a, kAttestationSource));
  return out;
}

}  // namespace opsm::scorer
