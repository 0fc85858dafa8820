#include "collectors/rest_cmdb/rest_cmdb_collector.h"

#include <rapidjson/pointer.h>

#include <map>
#include <set>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "common/yaml_util.h"

namespace opsm::collectors::rest_cmdb {

namespace {

constexpr const char* kPrefix = "cmdb.rest.";

bool nonEmpty(const rapidjson::Value* v) {
  if (!v || v->IsNull()) return false;
  if (v->IsString()) return v->GetStringLength() > 0;
  if (v->IsArray()) return !v->Empty();
  if (v->IsObject()) return v->MemberCount() > 0;
  return true;
}

// scheme://host[:port] of a URL.
std::string origin(const std::string& url) {
  auto p = url.find("://");
  if (p == std::string::npos) return "";
  auto slash = url.find('/', p + 3);
  return url.substr(0, slash);
}

}  // namespace

RestCmdbCollector::RestCmdbCollector(RestCmdbConfig config)
    : config_(std::move(config)), http_(config_.http) {}

Result<std::vector<scorer::Fact>> RestCmdbCollector::collect(const CollectContext& ctx) {
  struct PerSystem {
    int cis = 0, complete = 0, related = 0;
    std::map<std::string, bool> flags;  // profile attribute -> any CI true
    std::string runtime;
  };
  std::map<std::string, PerSystem> by_system;
  rapidjson::Pointer items_ptr(config_.items.c_str()), next_ptr(config_.next.c_str()),
      system_ptr(config_.system.c_str());
  std::vector<rapidjson::Pointer> required, related;
  for (const auto& p : config_.required) required.emplace_back(p.c_str());
  for (const auto& p : config_.related) related.emplace_back(p.c_str());
  std::vector<std::pair<std::string, rapidjson::Pointer>> profile;
  for (const auto& [attr, ptr] : config_.profile) profile.emplace_back(attr, rapidjson::Pointer(ptr.c_str()));
  std::string url = config_.url;
  std::set<std::string> seen;
  const std::string home = origin(config_.url);
  for (int page = 0; !url.empty(); ++page) {
    if (page >= config_.max_pages || !seen.insert(url).second) {
      return makeError(ErrorCode::kBadResponse, "CMDB " + redactUrl(config_.url) +
                                                    ": pagination does not end");
    }
    auto resp = http_.get(url, ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "CMDB " + redactUrl(url));
    if (!doc) return doc.error();
    const rapidjson::Value* items = config_.items.empty() ? &*doc : items_ptr.Get(*doc);
    if (!items || !items->IsArray()) {
      return makeError(ErrorCode::kBadResponse, "CMDB " + redactUrl(url) + ": no array at '" +
                                                    config_.items + "'");
    }
    for (const auto& ci : items->GetArray()) {
      const auto* sys = system_ptr.Get(ci);
      if (!sys || !sys->IsString() || sys->GetStringLength() == 0) continue;
      PerSystem& p = by_system[sys->GetString()];
      ++p.cis;
      bool complete = true;
      for (const auto& r : required) complete = complete && nonEmpty(r.Get(ci));
      p.complete += complete;
      bool rel = false;
      for (const auto& r : related) rel = rel || nonEmpty(r.Get(ci));
      p.related += rel;
      for (const auto& [attr, ptr] : profile) {
        const auto* v = ptr.Get(ci);
        if (attr == "runtime") {
          if (p.runtime.empty() && v && v->IsString()) {
            std::string rt = v->GetString();
            if (isRuntime(rt)) p.runtime = rt;
          }
        } else if (v && v->IsBool()) {
          p.flags[attr] = p.flags[attr] || v->GetBool();
        }
      }
    }
    url.clear();
    if (!config_.next.empty()) {
      const auto* n = next_ptr.Get(*doc);
      if (n && n->IsString() && n->GetStringLength() > 0) {
        std::string next = n->GetString();
        if (next.front() == '/') next = home + next;  // a path on the same server
        if (origin(next) != home) {
          return makeError(ErrorCode::kBadResponse,
                           "CMDB " + redactUrl(config_.url) +
                               ": next page is on another server: " + redactUrl(next).substr(0, 200));
        }
        url = next;
      }
    }
  }
  std::vector<scorer::Fact> facts;
  const std::string loc = redactUrl(config_.url);
  for (const auto& entry : by_system) {
    const auto& system = entry.first;  // not a structured binding: its lambdas capture it
    const auto& p = entry.second;
    auto add = [&](const char* key, scorer::Value v) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), loc});
    };
    add("cis", p.cis);
    for (const auto& [attr, value] : p.flags) {
      facts.push_back(scorer::Fact{"system." + attr, system, value, loc + " " + config_.profile.at(attr)});
    }
    if (!p.runtime.empty()) {
      facts.push_back(scorer::Fact{"system.runtime", system, p.runtime, loc + " " + config_.profile.at("runtime")});
    }
    if (!config_.required.empty()) add("ci_complete_ratio", static_cast<double>(p.complete) / p.cis);
    if (!config_.related.empty()) add("ci_related_ratio", static_cast<double>(p.related) / p.cis);
  }
  return facts;
}

namespace {

class RestCmdbFactory : public CollectorFactory {
 public:
  std::string type() const override { return "rest_cmdb"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    auto keys = describeProfileKeys(
        type(),
        [](const std::string& a) {
          return "True when a CI of the system has true at `profile." + a +
                 "`; false when its CIs have only false there.";
        },
        "The first container, vm or bare_metal at `profile.runtime` among the system's CIs.");
    auto vendor = describeKeys(kPrefix, type(), {
        {"cis", ValueType::kNumber,
         "Configuration items whose `system` pointer names the system, over every page.",
         "cmdb.cis"},
        {"ci_complete_ratio", ValueType::kNumber,
         "Share of the system's CIs where every `required` pointer is non-empty; only with `required`.",
         "cmdb.ci_complete_ratio"},
        {"ci_related_ratio", ValueType::kNumber,
         "Share of the system's CIs where some `related` pointer is non-empty (a recorded relationship); only with `related`.",
         "cmdb.ci_related_ratio"},
    });
    keys.insert(keys.end(), vendor.begin(), vendor.end());
    return keys;
  }

  Result<std::unique_ptr<Collector>> create(const CollectorConfig& cc) const override {
    const std::string& file = cc.file;
    const YAML::Node& node = cc.node;
    std::vector<std::string_view> allowed(std::begin(kCommonKeys), std::end(kCommonKeys));
    allowed.insert(allowed.end(), {"url", "items", "next", "system", "required", "related", "profile"});
    allowed.insert(allowed.end(), std::begin(kHttpKeys), std::end(kHttpKeys));
    if (auto st = checkAllowedKeys(file, node, allowed, "a rest_cmdb collector"); !st) {
      return st.error();
    }
    RestCmdbConfig c;
    c.name = cc.name;
    auto url = readHttpUrl(file, node, "url");
    if (!url) return url.error();
    c.url = *url;
    auto pointer = [&](const char* field, std::string* out, bool required) -> Status {
      auto v = readString(file, node, field);
      if (!v) return v.error();
      if (v->empty() && required) return fieldError(file, node, field, "is required (a JSON pointer)");
      if (!v->empty() && (v->front() != '/' || !rapidjson::Pointer(v->c_str()).IsValid())) {
        return fieldError(file, node[field], field, "'" + *v + "' is not a JSON pointer like /data/items");
      }
      *out = *v;
      return Status::success();
    };
    if (auto st = pointer("items", &c.items, false); !st) return st.error();
    if (auto st = pointer("next", &c.next, false); !st) return st.error();
    if (auto st = pointer("system", &c.system, true); !st) return st.error();
    for (auto [field, out] : {std::pair{"required", &c.required}, {"related", &c.related}}) {
      const YAML::Node list = node[field];
      if (!list) continue;
      if (!list.IsSequence()) return fieldError(file, list, field, "must be a list of JSON pointers");
      for (const auto& p : list) {
        std::string s = p.IsScalar() ? p.Scalar() : "";
        if (s.empty() || s.front() != '/' || !rapidjson::Pointer(s.c_str()).IsValid()) {
          return fieldError(file, p, field, "'" + s + "' is not a JSON pointer like /owner");
        }
        out->push_back(s);
      }
    }
    if (const YAML::Node prof = node["profile"]) {
      if (!prof.IsMap()) return fieldError(file, prof, "profile", "must map profile attributes to JSON pointers");
      for (const auto& kv : prof) {
        const std::string attr = kv.first.as<std::string>();
        if (!isProfileAttribute(attr)) return fieldError(file, kv.first, "profile", notAProfileAttribute(attr));
        std::string ptr = kv.second.IsScalar() ? kv.second.Scalar() : "";
        if (ptr.empty() || ptr.front() != '/' || !rapidjson::Pointer(ptr.c_str()).IsValid()) {
          return fieldError(file, kv.second, "profile", "'" + ptr + "' is not a JSON pointer like /is_frontend");
        }
        c.profile[attr] = ptr;
      }
    }
    auto http = parseHttpOptions(file, node);
    if (!http) return http.error();
    c.http = std::move(*http);
    return std::unique_ptr<Collector>(std::make_unique<RestCmdbCollector>(std::move(c)));
  }
};

}  // namespace

Status registerRestCmdb(Registry& registry) {
  return registry.add(std::make_unique<RestCmdbFactory>());
}

}  // namespace opsm::collectors::rest_cmdb
