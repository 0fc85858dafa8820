#pragma once

#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::netbox {

struct NetboxConfig {
  std::string name;
  std::string url;  // base URL, e.g. https://netbox.example.com (the API is under /api/)
  // A CI belongs to the system named by its tenant's slug, or by the custom field
  // `system_custom_field` when set.
  std::string system_custom_field;
  // What a complete CI record has: role, platform, primary_ip, site, serial, or
  // custom_fields.<name>.
  std::vector<std::string> required_fields = {"role", "platform", "primary_ip"};
  // The system profile (system.frontend, ...) from the tenant's custom fields, by attribute:
  // {frontend: is_frontend, has_cache: has_cache, runtime: runtime}. Only when tenants are
  // the systems.
  std::map<std::string, std::string> profile_custom_fields;
  int page_size = 100;
  int max_pages = 1000;  // per list: a bound on a misbehaving server's `next` chain
  HttpOptions http;
  // A Prometheus whose targets show the hosts each system runs on (empty: not read), and the
  // target label naming the system there.
  std::string prometheus_url;
  std::string prometheus_system_label = "system";
};

// Reads the NetBox REST API (tenants, devices, virtual machines, services, cables) with its
// count/next/results pagination and reports cmdb.netbox.* facts per system. Tenants make the
// CMDB a source of the systems to score (docs/collectors/netbox.md).
class NetboxCollector : public Collector {
 public:
  explicit NetboxCollector(NetboxConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  // Every object of a list endpoint, following `next` links on the same server only.
  Result<std::vector<rapidjson::Document>> list(const std::string& path,
                                                const CollectContext& ctx) const;

  NetboxConfig config_;
  HttpClient http_;
  HttpClient prometheus_http_;  // for prometheus_url: the same TLS settings, no credentials
};

Status registerNetbox(Registry& registry);

}  // namespace opsm::collectors::netbox
