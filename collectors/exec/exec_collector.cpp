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
  auto facts = parseFactText(*out, "plugin.", origin, config_.argv.front(), 100000,
                             ctx.yamlLimits());
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

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "exec",
        {
            stringListKey("command", "The plugin and its arguments, run without a shell; a path "
                                     "with a `/` is relative to the config file, a bare name is "
                                     "found on PATH.")
                .isRequired()
                .nonEmpty(),
            mapKey("env", "Variables added to the plugin's environment, e.g. `{LANG: C}`."),
            integerKey("max_output_bytes", "More output kills the plugin and fails the poll.")
                .defaults("1048576")
                .range(1, 1073741824),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    ExecConfig c;
    c.name = cfg.name();
    c.argv = cfg.strings("command");
    if (c.argv.front().empty()) return cfg.error("command", "program is empty");
    // A relative path with a '/' is relative to the config file; a bare name is found on PATH.
    if (c.argv.front().find('/') != std::string::npos && c.argv.front().front() != '/') {
      c.argv.front() = (std::filesystem::path(cfg.file()).parent_path() / c.argv.front()).string();
    }
    c.tool.program = c.argv.front();
    if (const YAML::Node env = cfg.node("env")) {
      for (const auto& kv : env) {
        if (!kv.second.IsScalar()) {
          return fieldError(cfg.file(), kv.second, "env." + kv.first.Scalar(), "must be a string");
        }
        c.tool.env[kv.first.Scalar()] = kv.second.Scalar();
      }
    }
    c.tool.max_output = static_cast<size_t>(cfg.integer("max_output_bytes"));
    return std::unique_ptr<Collector>(std::make_unique<ExecCollector>(std::move(c)));
  }
};

}  // namespace

Status registerExec(Registry& registry) { return registry.add(std::make_unique<ExecFactory>()); }

}  // namespace opsm::collectors::exec
