#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"
#include "common/regex.h"

namespace opsm::collectors::haproxy {

struct HaproxyConfig {
  std::string name;
  std::string url;     // the stats page in CSV (".../stats;csv"); or
  std::string socket;  // the runtime API's UNIX socket ("show stat")
  // Which system a backend belongs to: by name, else by the first capture group of
  // backend_regex on the backend's name (unset: a regex without a group, which captures
  // nothing). Backends of no system are left out.
  std::map<std::string, std::string> backends;
  Regex backend_regex;
  // haproxy.cfg, read for `option redispatch` per backend (not in the stats); optional.
  std::string config_file;
  size_t max_bytes = 64u << 20;
  HttpOptions http;
};

// One row of HAProxy's CSV statistics, by column name ("pxname", "svname", "status", ...).
using StatRow = std::map<std::string, std::string>;
// Parses `show stat` / stats;csv output: a "# pxname,svname,..." header, then one row a line.
// Fields may be double-quoted (RFC 4180). Errors name the line.
Result<std::vector<StatRow>> parseStatCsv(const std::string& text);

// For each backend and listen section of a haproxy.cfg: whether `option redispatch` is in
// force, set in the section or in the defaults section it follows (or names with `from`), and
// not undone by `no option redispatch`. A defaults section starts afresh unless it has `from`.
std::map<std::string, bool> redispatchByBackend(const std::string& config_text);

// HAProxy: per system, its backends, servers, servers up, health checks and redispatch
// (docs/collectors/haproxy.md).
class HaproxyCollector : public Collector {
 public:
  explicit HaproxyCollector(HaproxyConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  Result<std::string> readStats(const CollectContext& ctx) const;
  HaproxyConfig config_;
  HttpClient http_;
};

Status registerHaproxy(Registry& registry);

}  // namespace opsm::collectors::haproxy
