#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/duration.h"
#include "common/result.h"

namespace opsm {

// Loads and parses a YAML file; a parse error names the file, line and column.
Result<YAML::Node> loadYamlFile(const std::string& path);
Result<YAML::Node> loadYamlString(const std::string& text, const std::string& origin);

// "file:line" for a node (1-based line), or just "file" when the node has no mark.
std::string where(const std::string& file, const YAML::Node& node);

// An error of kind kInvalidArgument reading "file:line: field 'name': message".
Error fieldError(const std::string& file, const YAML::Node& node, std::string_view field,
                 std::string_view message);

// Rejects keys of a mapping that are not in `allowed`, naming the first unknown one.
Status checkKeys(const std::string& file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed, std::string_view context);

// Typed field readers: absent keys give the fallback; present keys of the wrong type fail.
Result<std::string> readString(const std::string& file, const YAML::Node& map,
                               std::string_view key, const std::string& fallback = "");
Result<Duration> readDuration(const std::string& file, const YAML::Node& map,
                              std::string_view key, Duration fallback);
Result<double> readNumber(const std::string& file, const YAML::Node& map, std::string_view key,
                          double fallback);
Result<bool> readBool(const std::string& file, const YAML::Node& map, std::string_view key,
                      bool fallback);

// Runs `f`, turning a yaml-cpp exception (a mapping where a scalar was expected, say) into
// an error naming the file and line, so that no malformed document can crash the agent.
template <typename F>
auto guardYaml(const std::string& file, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const YAML::Exception& e) {
    std::string where = file;
    if (!e.mark.is_null()) where += ":" + std::to_string(e.mark.line + 1);
    return makeError(ErrorCode::kInvalidArgument,
                     where + ": unexpected structure: " + e.msg);
  }
}

}  // namespace opsm
