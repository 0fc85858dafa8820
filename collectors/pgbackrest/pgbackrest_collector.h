#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/common/tool.h"

namespace opsm::collectors::pgbackrest {

struct PgBackRestConfig {
  std::string name;
  std::string config_file;                     // --config, when not the default
  std::map<std::string, std::string> stanzas;  // stanza -> system; empty: every stanza, named as is
  bool check = false;  // run `pgbackrest check` per stanza (needs the database reachable)
  ToolOptions tool;
};

// Reads `pgbackrest info --output=json` and reports backup.pgbackrest.* facts per stanza's
// system (docs/collectors/pgbackrest.md).
class PgBackRestCollector : public Collector {
 public:
  explicit PgBackRestCollector(PgBackRestConfig config) : config_(std::move(config)) {}
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  PgBackRestConfig config_;
};

Status registerPgBackRest(Registry& registry);

}  // namespace opsm::collectors::pgbackrest
