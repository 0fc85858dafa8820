#include "collectors/common/json.h"

#include <rapidjson/error/en.h>

namespace opsm::collectors {

Result<rapidjson::Document> parseJson(const std::string& body, std::string_view what) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return makeError(ErrorCode::kBadResponse,
                     std::string(what) + ": invalid JSON at byte " +
                         std::to_string(doc.GetErrorOffset()) + ": " +
                         rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return doc;
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const rapidjson::Value* arrayMember(const rapidjson::Value& obj, const char* name) {
  const auto* v = member(obj, name);
  return v && v->IsArray() ? v : nullptr;
}

const rapidjson::Value* objectMember(const rapidjson::Value& obj, const char* name) {
  const auto* v = member(obj, name);
  return v && v->IsObject() ? v : nullptr;
}

std::string stringMember(const rapidjson::Value& obj, const char* name,
                         const std::string& fallback) {
  const auto* v = member(obj, name);
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : fallback;
}

}  // namespace opsm::collectors
