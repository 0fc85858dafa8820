#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"

namespace opsm::collectors::docs {

struct DocsConfig {
  std::string name;
  std::string path;  // a directory of documents; a git work tree is cited by its commit
  // Document types -> the criteria a document of that type evidences (front-matter `type`).
  std::map<std::string, std::vector<std::string>> types;
  size_t max_files = 10000;
  size_t max_file_bytes = 1u << 20;
};

// Reads a directory (a git repository's work tree, or any directory) of Markdown and YAML
// documents with front-matter (systems, criteria or type, owner, approved_by, approved_at,
// next_review) and reports, per system and criterion: the document is present, approved by
// someone other than its owner, within its review period; and document.<criterion> when all
// three hold, which counts for an attestation criterion no attestation decides
// (docs/collectors/docs.md).
class DocsCollector : public Collector {
 public:
  explicit DocsCollector(DocsConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  DocsConfig config_;
};

// A document's front-matter: the YAML between a leading "---" line and the next "---" (or
// "...") line of a Markdown file; a YAML file's whole mapping. Empty when there is none.
std::string frontMatter(const std::string& text, bool yaml_file);

Status registerDocs(Registry& registry);

}  // namespace opsm::collectors::docs
