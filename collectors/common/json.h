#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/result.h"
#include "scorer/evidence.h"

namespace opsm::collectors {

// The deepest nesting of JSON any source may send (arrays and objects); deeper is refused.
inline constexpr size_t kMaxJsonDepth = 128;

// How deep arrays and objects nest in `text` (strings skipped), counting up to just past
// `limit`: a linear scan with no recursion, for refusing nesting bombs before parsing.
size_t jsonNestingDepth(std::string_view text, size_t limit);

// Parses a JSON body; errors name what was being read and the byte offset. Bodies nested
// deeper than kMaxJsonDepth are refused (a nesting bomb would exhaust the stack).
Result<rapidjson::Document> parseJson(const std::string& body, std::string_view what);

// Typed member access: nullptr when absent or of another type.
const rapidjson::Value* member(const rapidjson::Value& obj, const char* name);
const rapidjson::Value* arrayMember(const rapidjson::Value& obj, const char* name);
const rapidjson::Value* objectMember(const rapidjson::Value& obj, const char* name);
std::string stringMember(const rapidjson::Value& obj, const char* name,
                         const std::string& fallback = "");

}  // namespace opsm::collectors
