#pragma once

#include <map>
#include <string>
#include <vector>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::rest_cmdb {

// Where things are in the CMDB's JSON, as RFC 6901 JSON pointers.
struct RestCmdbConfig {
  std::string name;
  std::string url;                    // the first page
  std::string items = "";             // pointer to the CI array in a page ("" = the page itself)
  std::string next;                   // pointer to the next page's URL; empty: one page only
  std::string system;                 // pointer, within a CI, to its system's name
  std::vector<std::string> required;  // pointers that must be non-empty for a complete CI
  std::vector<std::string> related;   // pointers: a CI with any non-empty one is related
  // The system profile by attribute (frontend, steady_state, has_cache, has_database,
  // runtime): a pointer within a CI. A boolean attribute is true when a CI of the system says
  // true, false when CIs say so and none true; runtime is the first container/vm/bare_metal.
  std::map<std::string, std::string> profile;
  int max_pages = 1000;
  HttpOptions http;
};

// A CMDB with any REST/JSON API, described by JSON pointers: reports cmdb.rest.* facts (CIs,
// completeness, relationships) per system (docs/collectors/rest_cmdb.md).
class RestCmdbCollector : public Collector {
 public:
  explicit RestCmdbCollector(RestCmdbConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  RestCmdbConfig config_;
  HttpClient http_;
};

Status registerRestCmdb(Registry& registry);

}  // namespace opsm::collectors::rest_cmdb
