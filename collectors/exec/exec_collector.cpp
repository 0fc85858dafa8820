#include "collectors/exec/exec_collector.h"

#include <filesystem>

#include "collectors/common/fact_document.h"
#include "collectors/common/http_config.h"
#include "common/yaml_util.h"

namespace opsm::collectors::exec {

Result<std::vector<scorer::Fact>> ExecCollector::collect(const CollectContext& ctx) {
  std::vector<std::string> args(config_.argv.begin() + 1, config_.argv.end());
  auto out = runTool(config_.tool, args, ctx);
  if (!out) return out.error();
  std::string origin = config_.argv.front() + " output";
  auto facts = parseFactText(*out, "plugin.", origin, config_.argv.front());
  if (!facts) return makeError(ErrorCode::kBadResponse, facts.error().message);
  return facts;
}

namespace {

class ExecFactory : public CollectorFactory {
 public:
  std::string type() const override { return "exec"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    return {{"plugin.*", scorer::ValueType::kString, type(),
             "Any key under plugin., printed by an exec plugin as {\"facts\": [{system, key, "
             "value}]}; its type is what the plugin prints."}};
  }

  Result<std::unique_ptr<Collector>> create(const CollectorConfig& cc) const override {
    const std::string& file = cc.file;
    const YAML::Node& node = cc.node;
    std::vector<std::string_view> allowed(std::begin(kCommonKeys), std::end(kCommonKeys));
    allowed.insert(allowed.end(), {"command", "env", "max_output_bytes"});
    if (auto st = checkAllowedKeys(file, node, allowed, "an exec collector"); !st) {
      return st.error();
    }
    ExecConfig c;
    c.name = cc.name;
    const YAML::Node cmd = node["command"];
    if (!cmd || !cmd.IsSequence() || cmd.size() == 0) {
      return fieldError(file, cmd ? cmd : node, "command",
                        "must be a non-empty list: the program and its arguments (no shell)");
    }
    for (const auto& a : cmd) {
      if (!a.IsScalar()) return fieldError(file, a, "command", "arguments must be strings");
      c.argv.push_back(a.Scalar());
    }
    if (c.argv.front().empty()) return fieldError(file, cmd, "command", "program is empty");
    // A relative path with a '/' is relative to the config file; a bare name is found on PATH.
    if (c.argv.front().find('/') != std::string::npos && c.argv.front().front() != '/') {
      c.argv.front() = (std::filesystem::path(file).parent_path() / c.argv.front()).string();
    }
    c.tool.program = c.argv.front();
    if (const YAML::Node env = node["env"]; env) {
      if (!env.IsMap()) return fieldError(file, env, "env", "must map variable names to values");
      for (const auto& kv : env) {
        if (!kv.second.IsScalar()) {
          return fieldError(file, kv.second, "env." + kv.first.Scalar(), "must be a string");
        }
        c.tool.env[kv.first.Scalar()] = kv.second.Scalar();
      }
    }
    auto max = readNumber(file, node, "max_output_bytes", 1 << 20);
    if (!max) return max.error();
    if (*max < 1 || *max > (1u << 30)) {
      return fieldError(file, node["max_output_bytes"], "max_output_bytes",
                        "must be between 1 and 1073741824");
    }
    c.tool.max_output = static_cast<size_t>(*max);
    return std::unique_ptr<Collector>(std::make_unique<ExecCollector>(std::move(c)));
  }
};

}  // namespace

Status registerExec(Registry& registry) { return registry.add(std::make_unique<ExecFactory>()); }

}  // namespace opsm::collectors::exec
