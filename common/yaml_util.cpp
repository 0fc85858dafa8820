#include "common/yaml_util.h"

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace opsm {

namespace {

// The first key that a mapping in `node` repeats, walking iteratively (no recursion on a
// hostile depth). yaml-cpp keeps both entries and `node["k"]` silently answers the first.
std::optional<YAML::Node> duplicateKey(const YAML::Node& root) {
  std::vector<YAML::Node> todo{root};
  while (!todo.empty()) {
    YAML::Node n = todo.back();
    todo.pop_back();
    if (n.IsMap()) {
      std::set<std::string> seen;
      for (const auto& kv : n) {
        if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second) return kv.first;
        todo.push_back(kv.second);
      }
    } else if (n.IsSequence()) {
      for (const auto& item : n) todo.push_back(item);
    }
  }
  return std::nullopt;
}

Result<YAML::Node> parse(const std::string& text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    if (auto dup = duplicateKey(root)) {
      return makeError(ErrorCode::kInvalidArgument,
                       where(origin, *dup) + ": field '" + dup->Scalar() +
                           "': given twice in the same mapping (the first would win silently)");
    }
    return root;
  } catch (const YAML::Exception& e) {
    std::string msg = origin;
    if (!e.mark.is_null()) {
      msg += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    msg += ": YAML syntax error: " + e.msg;
    return makeError(ErrorCode::kInvalidArgument, msg);
  }
}

}  // namespace

Result<YAML::Node> loadYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, path + ": cannot open file");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return makeError(ErrorCode::kIo, path + ": read error");
  return parse(buf.str(), path);
}

Result<YAML::Node> loadYamlString(const std::string& text, const std::string& origin) {
  return parse(text, origin);
}

std::string where(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return file;
  return file + ":" + std::to_string(node.Mark().line + 1);
}

Error fieldError(const std::string& file, const YAML::Node& node, std::string_view field,
                 std::string_view message) {
  return makeError(ErrorCode::kInvalidArgument, where(file, node) + ": field '" +
                                                    std::string(field) + "': " +
                                                    std::string(message));
}

Status checkKeys(const std::string& file, const YAML::Node& map,
                 std::initializer_list<std::string_view> allowed, std::string_view context) {
  if (!map.IsMap()) {
    return makeError(ErrorCode::kInvalidArgument,
                     where(file, map) + ": " + std::string(context) + " must be a mapping");
  }
  for (const auto& kv : map) {
    std::string key = kv.first.Scalar();
    bool known = false;
    for (auto a : allowed) known = known || a == key;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return fieldError(file, kv.first, key,
                        "unknown key in " + std::string(context) + " (allowed: " + list + ")");
    }
  }
  return Status::success();
}

Result<std::string> readString(const std::string& file, const YAML::Node& map,
                               std::string_view key, const std::string& fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  if (!n.IsScalar()) return fieldError(file, n, key, "must be a string");
  return n.Scalar();
}

Result<Duration> readDuration(const std::string& file, const YAML::Node& map,
                              std::string_view key, Duration fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  if (!n.IsScalar()) return fieldError(file, n, key, "must be a duration like \"30s\"");
  auto d = parseDuration(n.Scalar());
  if (!d) return fieldError(file, n, key, d.error().message);
  return *d;
}

Result<double> readNumber(const std::string& file, const YAML::Node& map, std::string_view key,
                          double fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  double v = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
    return fieldError(file, n, key, "must be a number");
  }
  return v;
}

Result<bool> readBool(const std::string& file, const YAML::Node& map, std::string_view key,
                      bool fallback) {
  YAML::Node n = map[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return fallback;
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    return fieldError(file, n, key, "must be true or false");
  }
  return v;
}

}  // namespace opsm
