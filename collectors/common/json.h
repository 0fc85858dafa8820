#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/result.h"

namespace opsm::collectors {

// Parses a JSON body; errors name what was being read and the byte offset.
Result<rapidjson::Document> parseJson(const std::string& body, std::string_view what);

// Typed member access: nullptr when absent or of another type.
const rapidjson::Value* member(const rapidjson::Value& obj, const char* name);
const rapidjson::Value* arrayMember(const rapidjson::Value& obj, const char* name);
const rapidjson::Value* objectMember(const rapidjson::Value& obj, const char* name);
std::string stringMember(const rapidjson::Value& obj, const char* name,
                         const std::string& fallback = "");

}  // namespace opsm::collectors
