#pragma once

#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/common/tool.h"

namespace opsm::collectors::exec {

struct ExecConfig {
  std::string name;
  std::vector<std::string> argv;  // program and arguments, run without a shell
  ToolOptions tool;
};

// Runs an external program that prints facts as JSON on stdout (the extension point for any
// source without a built-in collector). Its keys live under plugin.* (docs/collectors/exec.md).
class ExecCollector : public Collector {
 public:
  explicit ExecCollector(ExecConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  ExecConfig config_;
};

Status registerExec(Registry& registry);

}  // namespace opsm::collectors::exec
