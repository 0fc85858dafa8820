#include "agent/exposition/requests.h"

#include <cmath>
#include <set>

#include "collectors/common/json.h"
#include "common/log.h"
#include "common/secrets.h"
#include "common/yaml_util.h"
#include "scorer/attestations.h"

namespace opsm::agent {

namespace {

using collectors::ConfigKey;
using collectors::ConfigType;

Error bad(const std::string& field, const std::string& message) {
  return makeError(ErrorCode::kInvalidArgument,
                   "request body: " +
                       (field.empty() ? message : "field '" + field + "': " + message));
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == items.size() ? " or " : ", ") + items[i];
  }
  return out;
}

Result<YAML::Node> object(const rapidjson::Value& v, const std::vector<ConfigKey>& fields,
                          const std::string& prefix);

Result<YAML::Node> value(const rapidjson::Value& v, const ConfigKey& k, const std::string& field) {
  switch (k.type) {
    case ConfigType::kBool:
      if (!v.IsBool()) return bad(field, "must be true or false");
      return YAML::Node(v.GetBool() ? "true" : "false");
    case ConfigType::kNumber:
    case ConfigType::kInteger: {
      if (!v.IsNumber()) return bad(field, "must be a number");
      const double d = v.GetDouble();
      if (k.type == ConfigType::kInteger && d != std::floor(d)) {
        return bad(field, "must be a whole number");
      }
      if ((k.min && d < *k.min) || (k.max && d > *k.max)) {
        return bad(field, "is out of range");
      }
      return YAML::Node(d);
    }
    case ConfigType::kStringList: {
      if (!v.IsArray()) return bad(field, "must be a list of strings");
      YAML::Node list(YAML::NodeType::Sequence);
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const std::string item = field + "[" + std::to_string(i) + "]";
        if (!v[i].IsString()) return bad(item, "must be a string");
        std::string s(v[i].GetString(), v[i].GetStringLength());
        if (hasControlCharacter(s)) return bad(item, "must not hold control characters");
        list.push_back(s);
      }
      if (k.non_empty && list.size() == 0) return bad(field, "must not be empty");
      return list;
    }
    case ConfigType::kMap:
      if (!v.IsObject()) return bad(field, "must be an object");
      return object(v, k.fields, field + ".");
    case ConfigType::kList: {
      if (!v.IsArray()) return bad(field, "must be a list");
      YAML::Node list(YAML::NodeType::Sequence);
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        const std::string item = field + "[" + std::to_string(i) + "]";
        if (!v[i].IsObject()) return bad(item, "must be an object");
        auto one = object(v[i], k.fields, item + ".");
        if (!one) return one.error();
        list.push_back(*one);
      }
      if (k.non_empty && list.size() == 0) return bad(field, "must not be empty");
      return list;
    }
    default: {
      if (!v.IsString()) return bad(field, "must be a string");
      std::string s(v.GetString(), v.GetStringLength());
      if (hasControlCharacter(s)) {
        return bad(field, "must not hold control characters (line breaks, tabs, escapes)");
      }
      if (k.non_empty && s.empty()) return bad(field, "must not be empty");
      if (!k.choices.empty()) {
        bool ok = false;
        for (const auto& c : k.choices) ok = ok || c == s;
        if (!ok) return bad(field, "must be " + joined(k.choices));
      }
      return YAML::Node(s);
    }
  }
}

Result<YAML::Node> object(const rapidjson::Value& v, const std::vector<ConfigKey>& fields,
                          const std::string& prefix) {
  YAML::Node out(YAML::NodeType::Map);
  std::set<std::string> seen;
  for (const auto& m : v.GetObject()) {
    const std::string name(m.name.GetString(), m.name.GetStringLength());
    const std::string field = prefix + name;
    const ConfigKey* k = nullptr;
    for (const auto& f : fields) {
      if (f.name == name) k = &f;
    }
    if (!k) {
      std::vector<std::string> names;
      for (const auto& f : fields) names.push_back(f.name);
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      return bad(hasControlCharacter(field) ? prefix + "?" : field,
                 "unknown field (allowed: " + list + ")");
    }
    if (!seen.insert(name).second) return bad(field, "given twice");
    if (m.value.IsNull()) {
      if (k->required) return bad(field, "is required");
      continue;
    }
    auto one = value(m.value, *k, field);
    if (!one) return one.error();
    out[name] = *one;
  }
  for (const auto& f : fields) {
    if (f.required && !seen.count(f.name)) return bad(prefix + f.name, "is required");
  }
  return out;
}

}  // namespace

BodySchema attestationBodySchema() {
  using collectors::boolKey;
  using collectors::stringKey;
  return {
      stringKey("system", "The system attested for.").isRequired().nonEmpty(),
      stringKey("criterion", "The criterion's id.").isRequired().nonEmpty(),
      boolKey("met", "Whether the requirement is met (default true)."),
      stringKey("attested_by", "The token's holder; may be left out."),
      stringKey("approved_by", "Refused: approval is a separate call."),
      stringKey("document", "Where the evidence is.").isRequired().nonEmpty(),
      stringKey("date", "When it was attested (YYYY-MM-DD).").isRequired().nonEmpty(),
      stringKey("expires", "When it ends, at the latest."),
      stringKey("note", "A note."),
      stringKey("comment", "A comment."),
  };
}

BodySchema waiverBodySchema() {
  using collectors::stringKey;
  return {
      stringKey("system", "The system waived for.").isRequired().nonEmpty(),
      stringKey("criterion", "The criterion's id.").isRequired().nonEmpty(),
      stringKey("justification", "Why.").isRequired().nonEmpty(),
      stringKey("risk", "The risk accepted.").isRequired().oneOf({"low", "medium", "high"}),
      stringKey("expires", "When it ends (YYYY-MM-DD); required, checked with the dates."),
  };
}

namespace {

Result<rapidjson::Document> parseBody(const std::string& body) {
  if (collectors::jsonNestingDepth(body, kMaxRequestBodyDepth) > kMaxRequestBodyDepth) {
    return bad("", "JSON nested deeper than " + std::to_string(kMaxRequestBodyDepth) +
                       " levels, refused");
  }
  auto doc = collectors::parseJson(body, "request body");
  if (!doc) return makeError(ErrorCode::kInvalidArgument, doc.error().message);
  if (!doc->IsObject()) return bad("", "expected a JSON object");
  return doc;
}

}  // namespace

Result<YAML::Node> readJsonBody(const std::string& body, const BodySchema& schema) {
  auto doc = parseBody(body);
  if (!doc) return doc.error();
  return object(*doc, schema, "");
}

Result<YAML::Node> readJsonBody(const std::string& body, const std::string& list_key,
                                const BodySchema& item) {
  auto doc = parseBody(body);
  if (!doc) return doc.error();
  if (!doc->HasMember(list_key.c_str())) return object(*doc, item, "");
  return object(*doc,
                {collectors::listKey(list_key, "").isRequired().nonEmpty().withFields(item)}, "");
}


Result<std::vector<scorer::Attestation>> parseAttestationRequest(const std::string& body,
                                                                 const Principal& who,
                                                                 const scorer::RulePack& pack,
                                                                 TimePoint now) {
  // JSON only: {"attestations": [...]}, or one attestation object.
  auto doc = readJsonBody(body, "attestations", attestationBodySchema());
  if (!doc) return doc.error();
  // One attestation object is a list of one. (Node::reset rebinds; assignment would
  // overwrite the node the name is bound to.)
  YAML::Node input = *doc;
  YAML::Node root;
  root.reset(input);
  if (input.IsMap() && !input["attestations"] && input["system"]) {
    YAML::Node wrapped(YAML::NodeType::Map);
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(input);
    wrapped["attestations"] = list;
    root.reset(wrapped);
  }
  // The author is who holds the token: attested_by may be left out, or must be that name.
  if (root.IsMap() && root["attestations"].IsSequence()) {
    for (auto a : root["attestations"]) {
      if (!a.IsMap()) continue;
      if (a["approved_by"]) {
        return makeError(ErrorCode::kInvalidArgument,
                         "request body: approved_by: an attestation is approved through "
                         "POST /api/v1/attestations/{id}/approve, by someone else");
      }
      if (!a["attested_by"]) {
        a["attested_by"] = who.name;
      } else if (!a["attested_by"].IsScalar() || a["attested_by"].Scalar() != who.name) {
        return makeError(ErrorCode::kInvalidArgument,
                         "request body: attested_by: an attestation through the API is made by "
                         "the token's holder (" + who.name + "); leave attested_by out");
      }
    }
  }
  std::vector<scorer::Attestation> records;
  {
    auto parsed = scorer::parseAttestationRecords(root, "request body", pack, now);
    if (!parsed) return parsed.error();
    records = std::move(*parsed);
  }
  if (records.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "request body: no attestation in it");
  }
  for (const auto& a : records) {
    if (holdsUrlUserinfo(a.document)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "request body: field 'document': a link with credentials "
                       "(user:password@) is refused: everyone who reads the attestation would "
                       "see them, and documents are fetched without credentials; link the "
                       "page itself and let the wiki ask who reads it");
    }
    if (a.expires <= now) {
      return makeError(ErrorCode::kInvalidArgument, "request body: the attestation of " +
                                                        a.criterion + " for " + a.system +
                                                        " has already expired");
    }
  }
  return records;
}

Result<Waiver> parseWaiverRequest(const std::string& body, const scorer::RulePack& pack,
                                  TimePoint now) {
  auto doc = readJsonBody(body, waiverBodySchema());
  if (!doc) return doc.error();
  const std::string origin = "request body";
  auto parsed = guardYaml(origin, [&]() -> Result<Waiver> {
    const YAML::Node& w = *doc;
    if (!w.IsMap()) return fieldError(origin, w, "waiver", "expected a JSON object");
    if (auto st = checkKeys(origin, w,
                            {"system", "criterion", "justification", "risk", "expires"},
                            "waiver");
        !st) {
      return st.error();
    }
    Waiver x;
    for (auto [field, out] : {std::pair{"system", &x.system}, std::pair{"criterion", &x.criterion},
                              std::pair{"justification", &x.justification},
                              std::pair{"risk", &x.risk}}) {
      auto v = readString(origin, w, field);
      if (!v) return v.error();
      if (v->empty()) return fieldError(origin, w, field, "is required");
      *out = *v;
    }
    if (x.risk != "low" && x.risk != "medium" && x.risk != "high") {
      return fieldError(origin, w["risk"], "risk", "must be low, medium or high");
    }
    if (x.justification.size() < 10) {
      return fieldError(origin, w["justification"], "justification",
                        "must say why (at least 10 characters)");
    }
    auto expires_text = readString(origin, w, "expires");
    if (!expires_text) return expires_text.error();
    if (expires_text->empty()) {
      return fieldError(origin, w, "expires", "is required: a waiver always ends");
    }
    auto expires = parseDate(*expires_text);
    if (!expires) return fieldError(origin, w["expires"], "expires", expires.error().message);
    if (*expires <= now) return fieldError(origin, w["expires"], "expires", "is in the past");
    if (*expires > now + std::chrono::hours(24 * 366)) {
      return fieldError(origin, w["expires"], "expires",
                        "is more than a year away: a waiver is reviewed at least yearly");
    }
    x.expires = *expires;
    if (!scorer::findCriterion(pack, x.criterion)) {
      return fieldError(origin, w["criterion"], "criterion",
                        "no criterion " + x.criterion + " in the rule pack");
    }
    return x;
  });
  return parsed;
}

}  // namespace opsm::agent
