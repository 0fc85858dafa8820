#pragma once

#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/common/tool.h"

namespace opsm::collectors::restic {

struct ResticConfig {
  std::string name;
  std::string repository;  // passed as -r; credentials in it are never logged
  // Snapshots belong to `system`, or to the value of their tag "<system_tag>=<name>".
  std::string system;
  std::string system_tag;
  bool check = true;  // run `restic check` (structure only, no data read) each poll
  ToolOptions tool;
};

// Reads a restic repository with `restic snapshots --json` and `restic check`, and reports
// backup.restic.* facts per system (docs/collectors/restic.md).
class ResticCollector : public Collector {
 public:
  explicit ResticCollector(ResticConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  ResticConfig config_;
};

Status registerRestic(Registry& registry);

}  // namespace opsm::collectors::restic
