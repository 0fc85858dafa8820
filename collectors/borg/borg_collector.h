#pragma once

#include <string>
#include <vector>

#include "collectors/collector.h"
#include "common/regex.h"
#include "collectors/common/tool.h"

namespace opsm::collectors::borg {

struct BorgConfig {
  std::string name;
  std::string repository;
  // Archives belong to `system`, or to the first capture group of `archive_regex` matched
  // against the archive name (e.g. "^([a-z0-9-]+)-\d{4}-" for payments-2026-11-25).
  std::string system;
  std::string archive_regex_text;
  Regex archive_regex;  // RE2 syntax
  bool check = false;  // `borg check --repository-only` each poll (reads the whole repository)
  ToolOptions tool;
};

// Reads a borg repository with `borg list --json` and `borg info --json` and reports
// backup.borg.* facts per system (docs/collectors/borg.md).
class BorgCollector : public Collector {
 public:
  explicit BorgCollector(BorgConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  BorgConfig config_;
};

Status registerBorg(Registry& registry);

}  // namespace opsm::collectors::borg
