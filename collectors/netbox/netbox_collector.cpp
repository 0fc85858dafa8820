#include "collectors/netbox/netbox_collector.h"

#include <map>
#include <set>

#include "collectors/common/http_config.h"
#include "collectors/common/json.h"
#include "collectors/prometheus/rule_attribution.h"
#include "common/yaml_util.h"

namespace opsm::collectors::netbox {

namespace {

constexpr const char* kPrefix = "cmdb.netbox.";

struct PerSystem {
  int devices = 0, vms = 0, services = 0, complete = 0, related = 0;
  // What identifies its CIs as hosts: their names (lower case, also the first DNS label)
  // and primary IP addresses (without the prefix length).
  std::set<std::string> host_names;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The host of a target's instance label: "10.0.0.1:9100" -> 10.0.0.1, "[::1]:9100" -> ::1,
// "db-1.example.com:9187" -> db-1.example.com; "" for a URL (a blackbox probe's instance is
// the probed address, not a host the system runs on).
std::string instanceHost(const std::string& instance) {
  if (instance.find("://") != std::string::npos || instance.empty()) return "";
  if (instance.front() == '[') {
    auto end = instance.find(']');
    return end == std::string::npos ? "" : instance.substr(1, end - 1);
  }
  auto colon = instance.rfind(':');
  if (colon != std::string::npos && instance.find(':') == colon) return lower(instance.substr(0, colon));
  return lower(instance);
}

bool present(const rapidjson::Value& obj, const std::string& field) {
  const rapidjson::Value* v = &obj;
  std::string rest = field;
  while (!rest.empty()) {
    auto dot = rest.find('.');
    std::string part = rest.substr(0, dot);
    rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
    if (!v->IsObject()) return false;
    v = member(*v, part.c_str());
    if (!v) return false;
  }
  if (v->IsNull()) return false;
  if (v->IsString()) return v->GetStringLength() > 0;
  if (v->IsArray()) return !v->Empty();
  return true;
}

// Device role: "role" since NetBox 4.0, "device_role" before.
bool hasField(const rapidjson::Value& obj, const std::string& field) {
  if (field == "role") return present(obj, "role") || present(obj, "device_role");
  return present(obj, field);
}

int idOf(const rapidjson::Value* v) {
  if (!v || !v->IsObject()) return -1;
  const auto* id = member(*v, "id");
  return id && id->IsInt() ? id->GetInt() : -1;
}

}  // namespace

NetboxCollector::NetboxCollector(NetboxConfig config)
    : config_(std::move(config)),
      http_(config_.http),
      prometheus_http_(withoutCredentials(config_.http)) {}

Result<std::vector<rapidjson::Document>> NetboxCollector::list(const std::string& path,
                                                               const CollectContext& ctx) const {
  std::vector<rapidjson::Document> out;
  std::string url = config_.url + path + (path.find('?') == std::string::npos ? "?" : "&") +
                    "limit=" + std::to_string(config_.page_size);
  std::set<std::string> seen;
  for (int page = 0; !url.empty(); ++page) {
    if (page >= config_.max_pages || !seen.insert(url).second) {
      return makeError(ErrorCode::kBadResponse,
                       "GET " + config_.url + path + ": pagination does not end (more than " +
                           std::to_string(config_.max_pages) + " pages or a repeated page)");
    }
    auto resp = http_.get(url, ctx.remaining());
    if (!resp) return resp.error();
    auto doc = parseJson(resp->body, "NetBox " + path);
    if (!doc) return doc.error();
    const auto* results = doc->IsObject() ? arrayMember(*doc, "results") : nullptr;
    if (!results) {
      return makeError(ErrorCode::kBadResponse,
                       "NetBox " + path + ": expected {count, next, results}, got no results list");
    }
    for (auto& r : results->GetArray()) {
      if (!r.IsObject()) continue;
      rapidjson::Document one;
      one.CopyFrom(r, one.GetAllocator());
      out.push_back(std::move(one));
    }
    const auto* next = member(*doc, "next");
    url.clear();
    if (next && next->IsString() && next->GetStringLength() > 0) {
      std::string n = next->GetString();
      // Follow only links to the same server: the token is never sent anywhere else.
      // (A NetBox behind a proxy may report http:// for an https:// URL; keep our scheme.)
      auto strip = [](const std::string& u) {
        auto p = u.find("://");
        return p == std::string::npos ? u : u.substr(p + 3);
      };
      std::string base = strip(config_.url);
      if (strip(n).rfind(base + "/", 0) != 0) {
        return makeError(ErrorCode::kBadResponse,
                         "NetBox " + path + ": next link points to another server: " +
                             redactUrl(n).substr(0, 200));
      }
      url = config_.url + strip(n).substr(base.size());
    }
  }
  return out;
}

Result<std::vector<scorer::Fact>> NetboxCollector::collect(const CollectContext& ctx) {
  auto tenants = list("/api/tenancy/tenants/", ctx);
  if (!tenants) return tenants.error();
  auto devices = list("/api/dcim/devices/", ctx);
  if (!devices) return devices.error();
  auto vms = list("/api/virtualization/virtual-machines/", ctx);
  if (!vms) return vms.error();
  auto services = list("/api/ipam/services/", ctx);
  if (!services) return services.error();
  auto cables = list("/api/dcim/cables/", ctx);
  if (!cables) return cables.error();

  std::map<std::string, PerSystem> by_system;
  std::vector<scorer::Fact> facts;
  if (config_.system_custom_field.empty()) {
    for (const auto& t : *tenants) {
      std::string slug = stringMember(t, "slug");
      if (slug.empty()) continue;
      by_system[slug];
      // The profile: a custom field of the tenant that is set (null: not declared).
      const auto* cf = objectMember(t, "custom_fields");
      for (const auto& [attr, field] : config_.profile_custom_fields) {
        const auto* v = cf ? member(*cf, field.c_str()) : nullptr;
        const std::string loc = "/api/tenancy/tenants/ custom_fields." + field;
        if (attr == "runtime") {
          if (v && v->IsString() && isRuntime(v->GetString())) {
            facts.push_back(scorer::Fact{"system.runtime", slug, std::string(v->GetString()), loc});
          }
        } else if (v && v->IsBool()) {
          facts.push_back(scorer::Fact{"system." + attr, slug, v->GetBool(), loc});
        }
      }
    }
  }
  auto systemOf = [&](const rapidjson::Value& ci) -> std::string {
    if (!config_.system_custom_field.empty()) {
      const auto* cf = objectMember(ci, "custom_fields");
      const auto* v = cf ? member(*cf, config_.system_custom_field.c_str()) : nullptr;
      return v && v->IsString() ? v->GetString() : "";
    }
    const auto* tenant = objectMember(ci, "tenant");
    return tenant ? stringMember(*tenant, "slug") : "";
  };
  // Relations: a device on a cable or with a service; a VM with a service or on a cluster.
  std::set<int> cabled_devices, serviced_devices, serviced_vms;
  for (const auto& c : *cables) {
    for (const char* side : {"a_terminations", "b_terminations"}) {
      const auto* terms = arrayMember(c, side);
      if (!terms) continue;
      for (const auto& t : terms->GetArray()) {
        const auto* obj = t.IsObject() ? objectMember(t, "object") : nullptr;
        int id = obj ? idOf(member(*obj, "device")) : -1;
        if (id >= 0) cabled_devices.insert(id);
      }
    }
  }
  for (const auto& s : *services) {
    if (int id = idOf(member(s, "device")); id >= 0) serviced_devices.insert(id);
    if (int id = idOf(member(s, "virtual_machine")); id >= 0) serviced_vms.insert(id);
  }
  auto complete = [&](const rapidjson::Value& ci) {
    for (const auto& f : config_.required_fields) {
      if (!hasField(ci, f)) return false;
    }
    return true;
  };
  auto hostNames = [&](const rapidjson::Value& ci, PerSystem* p) {
    std::string name = lower(stringMember(ci, "name"));
    if (!name.empty()) {
      p->host_names.insert(name);
      p->host_names.insert(name.substr(0, name.find('.')));
    }
    for (const char* ip : {"primary_ip", "primary_ip4", "primary_ip6"}) {
      if (const auto* addr = objectMember(ci, ip)) {
        std::string a = stringMember(*addr, "address");
        if (!a.empty()) p->host_names.insert(lower(a.substr(0, a.find('/'))));
      }
    }
  };
  for (const auto& d : *devices) {
    std::string system = systemOf(d);
    if (system.empty()) continue;
    PerSystem& p = by_system[system];
    hostNames(d, &p);
    ++p.devices;
    p.complete += complete(d);
    int id = idOf(&d);
    p.related += cabled_devices.count(id) || serviced_devices.count(id);
  }
  for (const auto& v : *vms) {
    std::string system = systemOf(v);
    if (system.empty()) continue;
    PerSystem& p = by_system[system];
    hostNames(v, &p);
    ++p.vms;
    p.complete += complete(v);
    p.related += serviced_vms.count(idOf(&v)) || present(v, "cluster");
  }
  std::map<int, std::string> device_system, vm_system;
  for (const auto& d : *devices) device_system[idOf(&d)] = systemOf(d);
  for (const auto& v : *vms) vm_system[idOf(&v)] = systemOf(v);
  for (const auto& s : *services) {
    std::string system;
    if (int id = idOf(member(s, "device")); id >= 0) system = device_system[id];
    if (int id = idOf(member(s, "virtual_machine")); id >= 0) system = vm_system[id];
    if (!system.empty()) ++by_system[system].services;
  }

  // The hosts each system is monitored on (its Prometheus targets' instances), and how many of
  // them the CMDB holds as CIs of that system.
  std::map<std::string, std::set<std::string>> monitored_hosts;
  std::string targets_loc;
  if (!config_.prometheus_url.empty()) {
    prometheus::SystemMapping mapping;
    mapping.system_label = config_.prometheus_system_label;
    auto scopes = prometheus::fetchTargetScopes(prometheus_http_, config_.prometheus_url, mapping,
                                                ctx, &targets_loc);
    if (!scopes) return scopes.error();
    for (const auto& [system, targets] : *scopes) {
      for (const auto& labels : targets) {
        auto it = labels.find("instance");
        std::string host = it == labels.end() ? "" : instanceHost(it->second);
        if (!host.empty()) monitored_hosts[system].insert(host);
      }
    }
  }

  const std::string loc = "/api/dcim/devices/, /api/virtualization/virtual-machines/";
  for (const auto& [system, hosts] : monitored_hosts) {
    const auto it = by_system.find(system);
    int held = 0;
    for (const auto& h : hosts) {
      held += it != by_system.end() && (it->second.host_names.count(h) ||
                                        it->second.host_names.count(h.substr(0, h.find('.'))));
    }
    facts.push_back(scorer::Fact{kPrefix + std::string("monitored_hosts"), system,
                                 static_cast<double>(hosts.size()), targets_loc});
    facts.push_back(scorer::Fact{kPrefix + std::string("monitored_hosts_held_ratio"), system,
                                 static_cast<double>(held) / hosts.size(),
                                 loc + " + " + targets_loc});
  }
  for (const auto& entry : by_system) {
    const auto& system = entry.first;  // not a structured binding: its lambdas capture it
    const auto& p = entry.second;
    auto add = [&](const char* key, scorer::Value v, const std::string& l) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), l});
    };
    int cis = p.devices + p.vms;
    add("devices", p.devices, "/api/dcim/devices/");
    add("virtual_machines", p.vms, "/api/virtualization/virtual-machines/");
    add("cis", cis, loc);
    add("services", p.services, "/api/ipam/services/");
    if (cis > 0) {
      add("ci_complete_ratio", static_cast<double>(p.complete) / cis, loc);
      add("ci_related_ratio", static_cast<double>(p.related) / cis,
          loc + ", /api/ipam/services/, /api/dcim/cables/");
    }
  }
  return facts;
}

namespace {

class NetboxFactory : public CollectorFactory {
 public:
  std::string type() const override { return "netbox"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    auto keys = describeProfileKeys(
        type(),
        [](const std::string& a) {
          return "The tenant's `profile_custom_fields." + a + "` custom field, when set.";
        },
        "The tenant's `profile_custom_fields.runtime` custom field, when it is container, vm or "
        "bare_metal.");
    auto vendor = describeKeys(kPrefix, type(), {
        {"devices", ValueType::kNumber, "Devices of the system (tenant slug, or `system_custom_field`) in NetBox; every tenant is a system, with 0 when it has none.",
         "cmdb.devices"},
        {"virtual_machines", ValueType::kNumber, "Virtual machines of the system in NetBox.",
         "cmdb.virtual_machines"},
        {"cis", ValueType::kNumber, "Configuration items of the system: devices plus virtual machines.",
         "cmdb.cis"},
        {"services", ValueType::kNumber, "Services (application ports) recorded on the system's devices and virtual machines.",
         "cmdb.services"},
        {"ci_complete_ratio", ValueType::kNumber, "Share of the system's CIs with every `required_fields` attribute set (default role, platform, primary_ip); absent without CIs.",
         "cmdb.ci_complete_ratio"},
        {"ci_related_ratio", ValueType::kNumber, "Share of the system's CIs with a recorded relationship: a device on a cable or with a service, a VM with a service or in a cluster; absent without CIs.",
         "cmdb.ci_related_ratio"},
        {"monitored_hosts", ValueType::kNumber, "Hosts the system is monitored on: distinct hosts of the instances of its targets in `prometheus_url` (URLs, a probe's instance, left out); only with prometheus_url."},
        {"monitored_hosts_held_ratio", ValueType::kNumber, "Share of those hosts the CMDB holds as CIs of the system (a device or VM whose name, first DNS label or primary IP is the host); only with prometheus_url.",
         "cmdb.monitored_hosts_held_ratio"},
    });
    keys.insert(keys.end(), vendor.begin(), vendor.end());
    return keys;
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "netbox",
        {
            urlKey("url", "The NetBox server, e.g. `https://netbox.example.com`.").isRequired(),
            secretKey("token", "An API token (read-only is enough).").isRequired(),
            stringKey("token_scheme", "`Token` for v1 tokens, `Bearer` for v2 `nbt_` tokens "
                                      "(NetBox 4.5+).")
                .defaults("Token")
                .oneOf({"Token", "Bearer"}),
            stringKey("system_custom_field", "Name systems by this custom field of a CI instead of "
                                             "its tenant."),
            stringListKey("required_fields", "What a complete CI has: role, platform, primary_ip, "
                                             "site, serial, status, description or "
                                             "custom_fields.<name>.")
                .defaults("role, platform, primary_ip"),
            integerKey("page_size", "`?limit=` of each request.").defaults("100").range(1, 1000),
            mapKey("profile_custom_fields", "Profile attributes (frontend, steady_state, has_cache, "
                                            "has_database, runtime) and the tenant custom field "
                                            "holding each; tenants must be the systems."),
            urlKey("prometheus_url", "A Prometheus whose targets show the hosts each system "
                                     "runs on: the share of them the CMDB holds as the system's "
                                     "CIs (by name or primary IP) is reported. Read with the same "
                                     "TLS settings and without the NetBox token."),
            stringKey("prometheus_system_label", "The target label naming the system there.")
                .defaults("system")
                .nonEmpty(),
            tlsKey(),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    const std::string& file = cfg.file();
    NetboxConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.url = withoutTrailingSlashes(c.url);
    c.system_custom_field = cfg.string("system_custom_field");
    c.required_fields = cfg.strings("required_fields");
    const YAML::Node rf = cfg.node("required_fields");
    for (size_t i = 0; i < c.required_fields.size(); ++i) {
      const std::string& name = c.required_fields[i];
      static const std::set<std::string> kKnown = {"role", "platform", "primary_ip", "site",
                                                   "serial", "status", "description"};
      if (!kKnown.count(name) && name.rfind("custom_fields.", 0) != 0) {
        return fieldError(file, rf ? rf[i] : cfg.entry(), "required_fields",
                          "'" + name + "' is not role, platform, primary_ip, site, serial, "
                          "status, description or custom_fields.<name>");
      }
    }
    if (const YAML::Node pf = cfg.node("profile_custom_fields")) {
      if (!c.system_custom_field.empty()) {
        return fieldError(file, pf, "profile_custom_fields",
                          "reads the tenant's custom fields: it needs tenants to be the systems "
                          "(no system_custom_field)");
      }
      for (const auto& kv : pf) {
        const std::string attr = kv.first.as<std::string>();
        if (!isProfileAttribute(attr)) {
          return fieldError(file, kv.first, "profile_custom_fields", notAProfileAttribute(attr));
        }
        if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
          return fieldError(file, kv.second, "profile_custom_fields", "names a custom field");
        }
        c.profile_custom_fields[attr] = kv.second.Scalar();
      }
    }
    c.page_size = cfg.integer("page_size");
    if (cfg.has("prometheus_url")) {
      c.prometheus_url = withoutTrailingSlashes(cfg.string("prometheus_url"));
    }
    c.prometheus_system_label = cfg.string("prometheus_system_label");
    // NetBox tokens: "Authorization: Token <key>" (v1) or "Bearer nbt_..." (v2, NetBox 4.5+).
    auto token = cfg.secret("token");
    if (!token) return token.error();
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    c.http.bearer_token = *token;
    c.http.token_scheme = cfg.string("token_scheme");
    return std::unique_ptr<Collector>(std::make_unique<NetboxCollector>(std::move(c)));
  }
};

}  // namespace

Status registerNetbox(Registry& registry) { return registry.add(std::make_unique<NetboxFactory>()); }

}  // namespace opsm::collectors::netbox
