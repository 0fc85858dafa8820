#include "collectors/prometheus/rule_attribution.h"

#include <algorithm>

#include "collectors/common/json.h"
#include "collectors/prometheus/promql_selectors.h"

namespace opsm::collectors::prometheus {

Labels labelsOf(const rapidjson::Value* obj) {
  Labels out;
  if (!obj || !obj->IsObject()) return out;
  for (const auto& m : obj->GetObject()) {
    if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
  }
  return out;
}

Result<rapidjson::Document> apiData(const std::string& body, const std::string& what) {
  auto doc = parseJson(body, what);
  if (!doc) return doc.error();
  if (!doc->IsObject() || stringMember(*doc, "status") != "success" || !member(*doc, "data")) {
    std::string err = doc->IsObject() ? stringMember(*doc, "error") : "";
    return makeError(ErrorCode::kBadResponse,
                     what + ": not a successful Prometheus API response" +
                         (err.empty() ? "" : ": " + err));
  }
  rapidjson::Document data;
  data.CopyFrom((*doc)["data"], data.GetAllocator());
  return data;
}

std::string systemOfTarget(const SystemMapping& mapping, const Labels& labels) {
  if (!mapping.by_job.empty()) {
    auto job = labels.find("job");
    if (job != labels.end()) {
      for (const auto& [system, re] : mapping.by_job) {
        if (re.fullMatch(job->second)) return system;
      }
    }
    return "";
  }
  auto it = labels.find(mapping.system_label);
  return it == labels.end() ? "" : it->second;
}

namespace {

using Recorded = std::map<std::string, std::set<std::string>>;  // series name -> watched systems

// The systems one rule's expression selects.
std::set<std::string> selectedBy(const std::string& expr, const TargetScopes& scopes,
                                 const SystemMapping& mapping, const Recorded& recorded) {
  const std::vector<std::string> scope = {"job", "instance", mapping.system_label};
  std::set<std::string> out;
  for (const auto& sel : vectorSelectors(expr)) {
    if (auto s = mapping.series_systems.find(sel.name); s != mapping.series_systems.end()) {
      out.insert(s->second);
    }
    bool scoped = false;
    selects(sel.matchers, scope, {}, &scoped);  // scoped depends on the matchers alone
    if (!scoped) {
      // a recorded series watches what its recording rule watches
      if (auto r = recorded.find(sel.name); r != recorded.end()) {
        out.insert(r->second.begin(), r->second.end());
      }
      continue;
    }
    for (const auto& [system, targets] : scopes) {
      for (const auto& labels : targets) {
        if (selects(sel.matchers, scope, labels, &scoped)) out.insert(system);
      }
    }
    // `system="x"` with no job or instance matcher also names a system without targets here
    // (one its rules name).
    const bool by_target = std::any_of(sel.matchers.begin(), sel.matchers.end(), [](const auto& m) {
      return m.label == "job" || m.label == "instance";
    });
    for (const auto& m : sel.matchers) {
      if (!by_target && m.label == mapping.system_label && m.op == LabelMatcher::Op::kEq &&
          !m.value.empty()) {
        out.insert(m.value);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<AttributedRule> attributeRules(const rapidjson::Value& groups,
                                           const TargetScopes& scopes,
                                           const SystemMapping& mapping) {
  std::vector<AttributedRule> rules;
  if (!groups.IsArray()) return rules;
  for (const auto& g : groups.GetArray()) {
    const auto* list = arrayMember(g, "rules");
    if (!list) continue;
    for (const auto& r : list->GetArray()) {
      AttributedRule rule;
      rule.type = stringMember(r, "type");
      rule.name = stringMember(r, "name");
      rule.expr = stringMember(r, "query");
      rule.labels = labelsOf(objectMember(r, "labels"));
      rule.annotations = labelsOf(objectMember(r, "annotations"));
      rule.json = &r;
      rules.push_back(std::move(rule));
    }
  }
  auto ownersOf = [&](const AttributedRule& rule, const Recorded& recorded) {
    auto sys = rule.labels.find(mapping.system_label);
    if (sys != rule.labels.end() && !sys->second.empty()) return std::set<std::string>{sys->second};
    for (const auto& label : mapping.rule_system_labels) {
      auto l = rule.labels.find(label);
      if (l != rule.labels.end() && !l->second.empty()) return std::set<std::string>{l->second};
    }
    return selectedBy(rule.expr, scopes, mapping, recorded);
  };
  // Recording rules first, again while a pass adds owners (a series recorded from another's;
  // bounded: each pass adds at least one owner of a finite set, or stops).
  Recorded recorded;
  for (size_t pass = 0; pass <= rules.size(); ++pass) {
    bool changed = false;
    for (auto& rule : rules) {
      if (rule.type != "recording") continue;
      auto owners = ownersOf(rule, recorded);
      auto& known = recorded[rule.name];
      for (const auto& o : owners) changed |= known.insert(o).second;
      rule.owners = known;
    }
    if (!changed) break;
  }
  for (auto& rule : rules) {
    if (rule.type == "recording") {
      rule.owners = recorded[rule.name];
    } else {
      rule.owners = ownersOf(rule, recorded);
    }
  }
  return rules;
}

namespace {

Result<rapidjson::Document> getApi(const HttpClient& http, const std::string& url,
                                   const std::string& path, const CollectContext& ctx,
                                   std::string* loc) {
  *loc = redactUrl(url) + path;
  auto resp = http.get(url + path, ctx.remaining());
  if (!resp) return resp.error();
  return apiData(resp->body, *loc);
}

}  // namespace

Result<TargetScopes> fetchTargetScopes(const HttpClient& http, const std::string& url,
                                       const SystemMapping& mapping, const CollectContext& ctx,
                                       std::string* locator) {
  auto targets = getApi(http, url, "/api/v1/targets?state=active", ctx, locator);
  if (!targets) return targets.error();
  const auto* active = arrayMember(*targets, "activeTargets");
  if (!active) {
    return makeError(ErrorCode::kBadResponse, *locator + ": no activeTargets list in data");
  }
  TargetScopes scopes;
  for (const auto& t : active->GetArray()) {
    Labels labels = labelsOf(objectMember(t, "labels"));
    std::string system = systemOfTarget(mapping, labels);
    if (system.empty()) continue;
    scopes[system].push_back(
        {{"job", labels["job"]}, {"instance", labels["instance"]}, {mapping.system_label, system}});
  }
  return scopes;
}

Result<std::map<std::string, std::vector<Labels>>> alertLabelsBySystem(
    const HttpClient& http, const std::string& url, const SystemMapping& mapping,
    const CollectContext& ctx, std::string* locator) {
  std::string targets_loc;
  auto scopes = fetchTargetScopes(http, url, mapping, ctx, &targets_loc);
  if (!scopes) return scopes.error();
  auto rules = getApi(http, url, "/api/v1/rules", ctx, locator);
  if (!rules) return rules.error();
  const auto* groups = arrayMember(*rules, "groups");
  if (!groups) return makeError(ErrorCode::kBadResponse, *locator + ": no groups list in data");
  std::map<std::string, std::vector<Labels>> out;
  for (const auto& rule : attributeRules(*groups, *scopes, mapping)) {
    if (rule.type != "alerting") continue;
    for (const auto& system : rule.owners) {
      Labels labels = rule.labels;
      labels["alertname"] = rule.name;
      labels[mapping.system_label] = system;
      out[system].push_back(std::move(labels));
    }
  }
  return out;
}

}  // namespace opsm::collectors::prometheus
