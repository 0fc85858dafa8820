#pragma once

#include <map>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"

namespace opsm::collectors::jira {

struct IncidentTargets {
  Duration detect = std::chrono::minutes(3);   // started -> detected
  Duration respond = std::chrono::minutes(5);  // detected -> responded
  Duration locate = std::chrono::minutes(5);   // detected -> located
  Duration restore = std::chrono::minutes(10); // detected -> restored
};

struct JiraConfig {
  std::string name;
  std::string url;
  bool cloud = true;  // /rest/api/3/search/jql (nextPageToken) vs /rest/api/2/search (startAt)
  std::string incidents_jql;  // without ORDER BY; empty: no incident facts
  std::string changes_jql;    // empty: no change facts
  std::vector<std::string> failed_resolutions = {"Failed", "Rolled Back", "Backed Out"};
  // Which field names the system: components (default), labels, or a custom field id.
  std::string system_field = "components";
  std::string system_prefix;  // e.g. "system:" for labels like system:payments
  // Incident timestamp fields (ids of date-time fields). `restored` defaults to
  // resolutiondate; the others have no default, and none may be `created` (when the ticket
  // was filed, which for a ticket back-filled after the fact says nothing of the incident).
  std::map<std::string, std::string> time_fields = {{"restored", "resolutiondate"}};
  IncidentTargets targets;
  Duration window = std::chrono::hours(24 * 30);
  int page_size = 100;
  int max_pages = 1000;
  HttpOptions http;
};

// Searches Jira with JQL for incident and change issues created within a window and reports
// incident.jira.* (counts, restore times, 3-5-10 attainment) and change.jira.* (counts,
// success ratio) facts per system (docs/collectors/jira.md).
class JiraCollector : public Collector {
 public:
  explicit JiraCollector(JiraConfig config);
  const std::string& name() const override { return config_.name; }
  Result<std::vector<scorer::Fact>> collect(const CollectContext& ctx) override;

 private:
  Result<std::vector<rapidjson::Document>> search(const std::string& jql,
                                                  const std::vector<std::string>& fields,
                                                  const CollectContext& ctx) const;
  std::vector<std::string> systemsOf(const rapidjson::Value& fields) const;

  JiraConfig config_;
  HttpClient http_;
};

Status registerJira(Registry& registry);

}  // namespace opsm::collectors::jira
