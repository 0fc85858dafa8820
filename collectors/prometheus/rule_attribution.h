#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "collectors/collector.h"
#include "collectors/common/http_client.h"
#include "common/regex.h"

namespace opsm::collectors::prometheus {

using Labels = std::map<std::string, std::string>;

// How targets are assigned to scored systems.
struct SystemMapping {
  std::string system_label = "system";  // a target label whose value names the system
  // Alternatively (checked first, in order): a system per job-name regex (full match).
  std::vector<std::pair<std::string, Regex>> by_job;  // RE2 syntax, as Prometheus's
  // Recorded series the site maps to a system (`series_systems`): a rule selecting the series
  // `slo:sli_error:ratio_rate5m` watches `payments`, whatever the series' labels.
  std::map<std::string, std::string> series_systems;
  // Further rule labels naming the system a rule watches (`rule_system_labels`), e.g.
  // Sloth's sloth_service: the rules Sloth generates for an SLO of service payments carry
  // sloth_service="payments".
  std::vector<std::string> rule_system_labels;
};

// The string members of a JSON object (labels, annotations); empty for anything else.
Labels labelsOf(const rapidjson::Value* obj);

// Unwraps the {"status":"success","data":...} envelope of the Prometheus API.
Result<rapidjson::Document> apiData(const std::string& body, const std::string& what);

// The system a target belongs to by its labels ("" for none).
std::string systemOfTarget(const SystemMapping& mapping, const Labels& labels);

// One rule of /api/v1/rules and the systems it watches.
struct AttributedRule {
  std::string type;  // alerting, recording
  std::string name;
  std::string expr;
  Labels labels;
  Labels annotations;
  // The systems the rule watches: the one its system label names; else those its selectors
  // select — by a selective matcher on job, instance or the system label against the
  // system's targets (`system="x"` without job or instance names x even without targets),
  // by a recorded series of a rule that watches them, or by a series the site maps to them.
  // Empty for a rule that selects no system (`vector(1)`, `up == 0`, `up{job=~".+"}`): a
  // platform rule, which counts for no system.
  std::set<std::string> owners;
  const rapidjson::Value* json = nullptr;  // the rule object in the document
};

// The scope labels (job, instance, system label) of each system's targets.
using TargetScopes = std::map<std::string, std::vector<Labels>>;

// Attributes every rule of the `groups` of /api/v1/rules (data.groups) to the systems it
// watches. Recording rules are attributed first (also when one records from another), so an
// alerting rule on a recorded series watches what the recording rule watches.
std::vector<AttributedRule> attributeRules(const rapidjson::Value& groups,
                                           const TargetScopes& scopes,
                                           const SystemMapping& mapping);

// The scope labels of each system's active targets of the Prometheus at `url`
// (/api/v1/targets?state=active through `http`); `locator` is set to the request.
Result<TargetScopes> fetchTargetScopes(const HttpClient& http, const std::string& url,
                                       const SystemMapping& mapping, const CollectContext& ctx,
                                       std::string* locator);

// The label sets of the alerts a Prometheus's alerting rules can send, per system they watch:
// the rule's labels, its alertname and the system label naming the system. Reads
// /api/v1/targets and /api/v1/rules of `url` through `http`; `locator` is set to the rules URL.
Result<std::map<std::string, std::vector<Labels>>> alertLabelsBySystem(
    const HttpClient& http, const std::string& url, const SystemMapping& mapping,
    const CollectContext& ctx, std::string* locator);

}  // namespace opsm::collectors::prometheus
