#include "collectors/file/file_collector.h"

#include <filesystem>

#include "collectors/common/fact_document.h"
#include "collectors/common/http_config.h"
#include "common/yaml_util.h"

namespace opsm::collectors::file {

Result<std::vector<scorer::Fact>> FileCollector::collect(const CollectContext& ctx) {
  std::error_code ec;
  auto size = std::filesystem::file_size(config_.path, ec);
  if (ec) return makeError(ErrorCode::kNotFound, config_.path + ": " + ec.message());
  if (size > config_.max_bytes) {
    return makeError(ErrorCode::kBadResponse,
                     config_.path + ": larger than " + std::to_string(config_.max_bytes) + " bytes");
  }
  auto doc = loadYamlFile(config_.path, ctx.yamlLimits());
  if (!doc) return doc.error();
  return parseFactDocument(*doc, "file.", config_.path, config_.path);
}

namespace {

class FileFactory : public CollectorFactory {
 public:
  std::string type() const override { return "file"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    return {{"file.*", scorer::ValueType::kString, type(),
             "Any key under file., read from a facts file {facts: [{system, key, value}]}; its "
             "type is what the file holds."}};
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "file", {stringKey("path", "A YAML or JSON facts file; relative to the config file.")
                     .isRequired()
                     .nonEmpty()});
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    FileConfig c;
    c.name = cfg.name();
    // A relative path is relative to the config file, like every path an operator writes there.
    c.path = cfg.path("path");
    return std::unique_ptr<Collector>(std::make_unique<FileCollector>(std::move(c)));
  }
};

}  // namespace

Status registerFile(Registry& registry) { return registry.add(std::make_unique<FileFactory>()); }

}  // namespace opsm::collectors::file
