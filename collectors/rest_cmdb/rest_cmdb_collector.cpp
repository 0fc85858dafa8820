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

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        urlKey("url", "The first page of CIs, e.g. `https://cmdb.example.com/api/cis?type=server`.")
            .isRequired(),
        stringKey("items", "JSON pointer to the CI array in a page (not set: the page is the array)."),
        stringKey("next", "JSON pointer to the next page's URL, absolute or a path (not set: one page)."),
        stringKey("system", "JSON pointer within a CI to its system's name.").isRequired().nonEmpty(),
        stringListKey("required", "JSON pointers: a CI is complete when all are non-empty."),
        stringListKey("related", "JSON pointers: a CI is related when any is non-empty."),
        mapKey("profile", "Profile attributes (frontend, steady_state, has_cache, has_database, "
                          "runtime) and the JSON pointer within a CI holding each."),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema("rest_cmdb", std::move(keys));
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    const std::string& file = cfg.file();
    RestCmdbConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    auto isPointer = [](const std::string& p) {
      return !p.empty() && p.front() == '/' && rapidjson::Pointer(p.c_str()).IsValid();
    };
    for (auto [field, out] : {std::pair{"items", &c.items}, {"next", &c.next}, {"system", &c.system}}) {
      *out = cfg.string(field);
      if (!out->empty() && !isPointer(*out)) {
        return cfg.error(field, "'" + *out + "' is not a JSON pointer like /data/items");
      }
    }
    for (auto [field, out] : {std::pair{"required", &c.required}, {"related", &c.related}}) {
      *out = cfg.strings(field);
      for (size_t i = 0; i < out->size(); ++i) {
        if (!isPointer((*out)[i])) {
          return fieldError(file, cfg.node(field)[i], field,
                            "'" + (*out)[i] + "' is not a JSON pointer like /owner");
        }
      }
    }
    if (const YAML::Node prof = cfg.node("profile")) {
      for (const auto& kv : prof) {
        const std::string attr = kv.first.as<std::string>();
        if (!isProfileAttribute(attr)) return fieldError(file, kv.first, "profile", notAProfileAttribute(attr));
        std::string ptr = kv.second.IsScalar() ? kv.second.Scalar() : "";
        if (!isPointer(ptr)) {
          return fieldError(file, kv.second, "profile", "'" + ptr + "' is not a JSON pointer like /is_frontend");
        }
        c.profile[attr] = ptr;
      }
    }
    auto http = parseHttpOptions(cfg);
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
