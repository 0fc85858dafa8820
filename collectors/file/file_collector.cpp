#include "collectors/file/file_collector.h"

#include <filesystem>

#include "collectors/common/fact_document.h"
#include "collectors/common/http_config.h"
#include "common/yaml_util.h"

namespace opsm::collectors::file {

Result<std::vector<scorer::Fact>> FileCollector::collect(const CollectContext&) {
  std::error_code ec;
  auto size = std::filesystem::file_size(config_.path, ec);
  if (ec) return makeError(ErrorCode::kNotFound, config_.path + ": " + ec.message());
  if (size > config_.max_bytes) {
    return makeError(ErrorCode::kBadResponse,
                     config_.path + ": larger than " + std::to_string(config_.max_bytes) + " bytes");
  }
  auto doc = loadYamlFile(config_.path);
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

  Result<std::unique_ptr<Collector>> create(const CollectorConfig& cc) const override {
    const std::string& file = cc.file;
    const YAML::Node& node = cc.node;
    std::vector<std::string_view> allowed(std::begin(kCommonKeys), std::end(kCommonKeys));
    allowed.insert(allowed.end(), {"path"});
    if (auto st = checkAllowedKeys(file, node, allowed, "a file collector"); !st) {
      return st.error();
    }
    FileConfig c;
    c.name = cc.name;
    auto path = readString(file, node, "path");
    if (!path) return path.error();
    if (path->empty()) return fieldError(file, node, "path", "is required");
    // A relative path is relative to the config file, like every path an operator writes there.
    std::filesystem::path p(*path);
    if (p.is_relative()) p = std::filesystem::path(file).parent_path() / p;
    c.path = p.string();
    return std::unique_ptr<Collector>(std::make_unique<FileCollector>(std::move(c)));
  }
};

}  // namespace

Status registerFile(Registry& registry) { return registry.add(std::make_unique<FileFactory>()); }

}  // namespace opsm::collectors::file
