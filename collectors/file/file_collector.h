#pragma once

#include <string>

#include "collectors/collector.h"

namespace opsm::collectors::file {

struct FileConfig {
  std::string name;
  std::string path;  // YAML or JSON document {facts: [{system, key, value}]}
  size_t max_bytes = 16u << 20;
};

// Reads facts kept in a YAML or JSON file (exported by another tool, or kept by hand), re-read
// on every poll. Its keys live under file.* (docs/collectors/file.md).
class FileCollector : public Collector {
 public:
  explicit FileCollector(FileConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  FileConfig config_;
};

Status registerFile(Registry& registry);

}  // namespace opsm::collectors::file
