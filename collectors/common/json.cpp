#include "collectors/common/json.h"

#include <algorithm>

#include <rapidjson/error/en.h>

namespace opsm::collectors {

size_t jsonNestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<rapidjson::Document> parseJson(const std::string& body, std::string_view what) {
  // RapidJSON's recursive parser, and the recursive copies and walks of what it builds, would
  // overflow the stack on a hostile nesting ("[" x 200,000): refuse such a body first, and
  // parse iteratively.
  if (jsonNestingDepth(body, kMaxJsonDepth) > kMaxJsonDepth) {
    return makeError(ErrorCode::kBadResponse,
                     std::string(what) + ": JSON nested deeper than " +
                         std::to_string(kMaxJsonDepth) + " levels, refused");
  }
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
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
