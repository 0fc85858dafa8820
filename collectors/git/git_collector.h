#pragma once

#include <string>

#include "collectors/collector.h"
#include "collectors/common/tool.h"

namespace opsm::collectors::git {

struct GitConfig {
  std::string name;
  std::string system;
  std::string repository;  // a local clone (GitOps repository, or the system's code)
  std::string ref = "HEAD";
  Duration window = std::chrono::hours(24 * 30);
  ToolOptions tool;
};

// Reads the history of a local git repository (commits, reverts, merges, tags within a
// window) and reports change.git.* facts for one system (docs/collectors/git.md).
class GitCollector : public Collector {
 public:
  explicit GitCollector(GitConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  GitConfig config_;
};

Status registerGit(Registry& registry);

}  // namespace opsm::collectors::git
