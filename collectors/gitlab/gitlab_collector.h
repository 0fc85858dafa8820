#pragma once

#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::gitlab {

struct GitlabConfig {
  std::string name;
  std::string url;                              // https://gitlab.example.com
  std::map<std::string, std::string> projects;  // project path (group/app) -> system
  std::string environment = "production";
  Duration window = std::chrono::hours(24 * 30);
  int page_size = 100;
  int max_pages = 1000;
  HttpOptions http;
};

// Reads GitLab's deployments and environments APIs per project and reports change.gitlab.*
// facts (deployment counts, failures, rollbacks, frequency) per system
// (docs/collectors/gitlab.md).
class GitlabCollector : public Collector {
 public:
  explicit GitlabCollector(GitlabConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  // Every item of a list endpoint, following X-Next-Page.
  Result<std::vector<rapidjson::Document>> list(const std::string& path,
                                                const CollectContext& ctx) const;
  GitlabConfig config_;
  HttpClient http_;
};

Status registerGitlab(Registry& registry);

}  // namespace opsm::collectors::gitlab
