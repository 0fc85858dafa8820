#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/duration.h"
#include "common/result.h"

namespace opsm {

// Bounds on one YAML document (docs/hardening.md#yaml). yaml-cpp shares an aliased node
// instead of copying it, so parsing a "billion laughs" is cheap but every walk of the tree
// (and every copy a reader makes of it) expands each alias again. Before the tree is built,
// one pass over the parser's events counts the document as it would be expanded — an alias
// adds the nodes and scalar bytes of what it names, computed once when that node ended — and
// checks each mapping for duplicate keys; it visits every node of the text once.
struct YamlLimits {
  // Nodes (scalars, nulls, lists, mappings) in the expanded document; 0: the default,
  // max(1,000,000, the text's length in bytes).
  size_t max_nodes = 0;
  // Bytes of scalar text in the expanded document; 0: the default, max(16 MiB, twice the
  // text's length). A document without aliases is never over either default.
  size_t max_bytes = 0;
  // A parse still running then ends with an error (a poll's deadline).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// The defaults of YamlLimits for a text of `text_bytes` bytes.
size_t defaultYamlMaxNodes(size_t text_bytes);
size_t defaultYamlMaxBytes(size_t text_bytes);

// Loads and parses a YAML file (its first document); a parse error names the file, line and
// column, a mapping that repeats a key names the key and its line, and a document over
// `limits` is refused naming the limit. Every YAML the agent reads goes through these.
Result<YAML::Node> loadYamlFile(const std::string& path, const YamlLimits& limits = {});
Result<YAML::Node> loadYamlString(const std::string& text, const std::string& origin,
                                  const YamlLimits& limits = {});

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
