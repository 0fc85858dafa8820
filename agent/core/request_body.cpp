#include "agent/core/request_body.h"

#include <cmath>
#include <set>

#include "collectors/common/json.h"
#include "common/log.h"

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

}  // namespace opsm::agent
