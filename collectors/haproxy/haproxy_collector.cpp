#include "collectors/haproxy/haproxy_collector.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "collectors/common/http_config.h"
#include "common/log.h"
#include "common/yaml_util.h"

namespace opsm::collectors::haproxy {

namespace {

constexpr const char* kPrefix = "loadbalancer.haproxy.";

// Splits one CSV line; double-quoted fields may hold commas and "" for a quote.
bool splitCsv(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      out->push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) return false;
  out->push_back(std::move(field));
  return true;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

Result<std::vector<StatRow>> parseStatCsv(const std::string& text) {
  std::vector<StatRow> rows;
  std::vector<std::string> header, fields;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (header.empty()) {
      if (line.rfind("# ", 0) != 0) {
        return makeError(ErrorCode::kBadResponse,
                         "HAProxy stats: line 1 is not a CSV header (\"# pxname,svname,...\"): " +
                             printable(line.substr(0, 80)));
      }
      splitCsv(std::string_view(line).substr(2), &header);
      if (header.size() < 2 || header[0] != "pxname" || header[1] != "svname") {
        return makeError(ErrorCode::kBadResponse,
                         "HAProxy stats: the header does not start with pxname,svname");
      }
      continue;
    }
    if (!splitCsv(line, &fields)) {
      return makeError(ErrorCode::kBadResponse,
                       "HAProxy stats: line " + std::to_string(n) + " has an unclosed quote");
    }
    StatRow row;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      if (!header[i].empty()) row[header[i]] = std::move(fields[i]);
    }
    rows.push_back(std::move(row));
  }
  if (header.empty()) return makeError(ErrorCode::kBadResponse, "HAProxy stats: empty answer");
  return rows;
}

std::map<std::string, bool> redispatchByBackend(const std::string& config_text) {
  static const std::set<std::string> kSections = {
      "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist",
      "program", "http-errors", "ring", "mailers", "cache", "fcgi-app"};
  std::map<std::string, bool> defaults;  // by defaults-section name ("" = the last unnamed)
  std::string last_defaults;
  std::map<std::string, bool> out;
  enum { kOther, kDefaults, kProxy } in = kOther;
  std::string section;
  bool value = false;
  auto close = [&] {
    if (in == kDefaults) {
      defaults[section] = value;
      last_defaults = section;
    }
    if (in == kProxy) out[section] = value;
  };
  std::istringstream text(config_text);
  for (std::string line; std::getline(text, line);) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    auto w = words(line);
    if (w.empty()) continue;
    if (kSections.count(w[0])) {
      close();
      in = kOther;
      section = w.size() > 1 ? w[1] : "";
      if (w[0] == "defaults") {
        in = kDefaults;
        // a defaults section starts afresh, or from the one it names ("defaults x from y")
        value = w.size() > 3 && w[2] == "from" && defaults[w[3]];
        if (w.size() == 1) section = "";
      } else if (w[0] == "backend" || w[0] == "listen") {
        in = kProxy;
        std::string from = last_defaults;
        if (w.size() > 3 && w[2] == "from") from = w[3];
        value = defaults.count(from) ? defaults[from] : false;
      }
      continue;
    }
    if (in == kOther) continue;
    if (w.size() >= 2 && w[0] == "option" && w[1] == "redispatch") value = true;
    if (w.size() >= 3 && w[0] == "no" && w[1] == "option" && w[2] == "redispatch") value = false;
  }
  close();
  return out;
}

HaproxyCollector::HaproxyCollector(HaproxyConfig config)
    : config_(std::move(config)), http_(config_.http) {}

Result<std::string> HaproxyCollector::readStats(const CollectContext& ctx) const {
  if (!config_.url.empty()) {
    auto resp = http_.get(config_.url, ctx.remaining());
    if (!resp) return resp.error();
    return std::move(resp->body);
  }
  const std::string where = "HAProxy socket " + config_.socket;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return makeError(ErrorCode::kUnavailable, where + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config_.socket.size() >= sizeof(addr.sun_path)) {
    return makeError(ErrorCode::kInvalidArgument, where + ": path too long");
  }
  std::memcpy(addr.sun_path, config_.socket.c_str(), config_.socket.size() + 1);
  auto wait = [&](short events) -> Status {
    pollfd p{fd, events, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        ctx.deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return makeError(ErrorCode::kTimeout, where + ": timed out");
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r == 0) return makeError(ErrorCode::kTimeout, where + ": timed out");
    if (r < 0 && errno != EINTR) return makeError(ErrorCode::kUnavailable, where + ": poll failed");
    return Status::success();
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS && errno != EAGAIN) {
    return makeError(ErrorCode::kUnavailable, where + ": " + std::strerror(errno));
  }
  if (auto st = wait(POLLOUT); !st) return st.error();
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) return makeError(ErrorCode::kUnavailable, where + ": " + std::strerror(err));
  const std::string command = "show stat\n";
  for (size_t sent = 0; sent < command.size();) {
    ssize_t n = ::send(fd, command.data() + sent, command.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (auto st = wait(POLLOUT); !st) return st.error();
      continue;
    }
    if (n < 0) return makeError(ErrorCode::kUnavailable, where + ": " + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  // The runtime API answers one command and closes the connection.
  std::string out;
  char buf[16384];
  for (;;) {
    if (auto st = wait(POLLIN); !st) return st.error();
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return makeError(ErrorCode::kUnavailable, where + ": " + std::strerror(errno));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > config_.max_bytes) {
      return makeError(ErrorCode::kBadResponse, where + ": answer larger than " +
                                                    std::to_string(config_.max_bytes) + " bytes");
    }
  }
  return out;
}

Result<std::vector<scorer::Fact>> HaproxyCollector::collect(const CollectContext& ctx) {
  auto text = readStats(ctx);
  if (!text) return text.error();
  auto rows = parseStatCsv(*text);
  if (!rows) return rows.error();
  std::map<std::string, bool> redispatch;
  const bool have_config = !config_.config_file.empty();
  if (have_config) {
    std::ifstream in(config_.config_file);
    if (!in) {
      return makeError(ErrorCode::kNotFound, config_.config_file + ": cannot read HAProxy config");
    }
    std::stringstream buf;
    buf << in.rdbuf();
    redispatch = redispatchByBackend(buf.str());
  }
  auto systemOf = [&](const std::string& backend) {
    if (auto it = config_.backends.find(backend); it != config_.backends.end()) return it->second;
    std::string group;
    if (config_.backend_regex.firstGroup(backend, &group)) return group;
    return std::string();
  };
  struct Backend {
    std::string system;
    bool down = false;
    int servers = 0, up = 0, checked = 0;
    int active_up = 0;  // up and not a backup server (bck=1): the servers that share traffic
    int backup = 0;
    double redispatched = 0;
  };
  std::map<std::string, Backend> backends;  // by pxname
  for (const auto& row : *rows) {
    auto get = [&](const char* k) {
      auto it = row.find(k);
      return it == row.end() ? std::string() : it->second;
    };
    const std::string px = get("pxname"), sv = get("svname"), type = get("type");
    // type: 0 frontend, 1 backend, 2 server, 3 listener
    if (type != "1" && type != "2") continue;
    std::string system = systemOf(px);
    if (system.empty()) continue;
    Backend& b = backends[px];
    b.system = system;
    const std::string status = get("status");
    if (type == "1") {
      b.down = status == "DOWN";
      try {
        b.redispatched = get("wredis").empty() ? 0 : std::stod(get("wredis"));
      } catch (const std::exception&) {
      }
      continue;
    }
    ++b.servers;
    // "UP", "UP 1/3" (going down), "DOWN", "DOWN 1/2" (going up), "NOLB", "MAINT", "DRAIN",
    // "no check" (up, unchecked)
    const bool is_up = status.rfind("UP", 0) == 0 || status == "no check";
    // A backup server takes traffic only once every active one is down: it fails over, it
    // does not balance.
    const bool is_backup = get("bck") == "1";
    if (is_up) ++b.up;
    if (is_up && !is_backup) ++b.active_up;
    if (is_backup) ++b.backup;
    if (status != "no check" && !get("check_status").empty()) ++b.checked;
  }
  struct PerSystem {
    int backends = 0, down = 0, servers = 0, up = 0, checked = 0, min_up = -1, backup = 0;
    int redispatch_on = 0;
    double redispatched = 0;
    std::vector<std::string> names;
  };
  std::map<std::string, PerSystem> by_system;
  for (const auto& [px, b] : backends) {
    PerSystem& p = by_system[b.system];
    ++p.backends;
    p.down += b.down;
    p.servers += b.servers;
    p.up += b.up;
    p.checked += b.checked;
    p.min_up = p.min_up < 0 ? b.active_up : std::min(p.min_up, b.active_up);
    p.backup += b.backup;
    p.redispatched += b.redispatched;
    if (auto r = redispatch.find(px); r != redispatch.end() && r->second) ++p.redispatch_on;
    p.names.push_back(px);
  }
  const std::string loc = config_.url.empty() ? "show stat on " + config_.socket
                                              : redactUrl(config_.url);
  std::vector<scorer::Fact> facts;
  for (const auto& entry : by_system) {
    const auto& system = entry.first;  // not a structured binding: its lambdas capture it
    const auto& p = entry.second;
    auto add = [&](const char* key, scorer::Value v, const std::string& l) {
      facts.push_back(scorer::Fact{kPrefix + std::string(key), system, std::move(v), l});
    };
    add("backends", p.backends, loc);
    add("backend_names", scorer::StringList(p.names), loc);
    add("backends_down", p.down, loc);
    add("servers", p.servers, loc);
    add("servers_up", p.up, loc);
    add("min_servers_up", std::max(p.min_up, 0), loc);
    add("backup_servers", p.backup, loc);
    add("servers_checked", p.checked, loc);
    add("all_servers_checked", p.servers > 0 && p.checked == p.servers, loc);
    add("redispatches", p.redispatched, loc);
    if (have_config) {
      add("redispatch", p.redispatch_on == p.backends, config_.config_file);
    }
  }
  return facts;
}

namespace {

class HaproxyFactory : public CollectorFactory {
 public:
  std::string type() const override { return "haproxy"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"backends", ValueType::kNumber, "Backends (and listen sections) of the system.",
         "loadbalancer.backends"},
        {"backend_names", ValueType::kList, "Names of the system's backends."},
        {"backends_down", ValueType::kNumber, "Backends of the system with no server available (status DOWN)."},
        {"servers", ValueType::kNumber, "Servers in the system's backends (backup servers included).",
         "loadbalancer.servers"},
        {"servers_up", ValueType::kNumber, "Servers of the system's backends that take traffic: status UP (or going down), or `no check` (unchecked, assumed up).",
         "loadbalancer.servers_up"},
        {"min_servers_up", ValueType::kNumber, "The fewest active servers up in any backend of the system (backup servers, bck=1, do not count: they take traffic only when every active one is down): at least 2 means traffic is balanced, and one server's failure leaves the backend serving.",
         "loadbalancer.min_servers_up"},
        {"backup_servers", ValueType::kNumber, "Backup servers (bck=1) of the system's backends: a failover, not load balancing."},
        {"servers_checked", ValueType::kNumber, "Servers with health checks on (a check status, not `no check`)."},
        {"all_servers_checked", ValueType::kBool, "Every server of the system's backends is health-checked (false with no server).",
         "loadbalancer.health_checks"},
        {"redispatches", ValueType::kNumber, "Requests redispatched to another server since HAProxy started (wredis of the backends)."},
        {"redispatch", ValueType::kBool, "Every backend of the system has `option redispatch` in force (its own, or its defaults section's), as `config_file` says; absent without `config_file`.",
         "loadbalancer.redispatch"},
    });
  }

  ConfigSchema configSchema() const override {
    std::vector<ConfigKey> keys = {
        urlKey("url", "The stats page in CSV, e.g. `http://lb:8404/stats;csv`."),
        stringKey("socket", "The runtime API's Unix socket (any level), e.g. `/run/haproxy/admin.sock`.")
            .nonEmpty(),
        mapKey("backends", "Backend names and the system each serves."),
        stringKey("backend_regex", "A regular expression (RE2) whose first capture group in a "
                                   "backend's name names its system.")
            .nonEmpty(),
        stringKey("config_file", "haproxy.cfg, read for `option redispatch` per backend."),
    };
    for (auto& k : httpKeys()) keys.push_back(std::move(k));
    return ConfigSchema(
        "haproxy", std::move(keys),
        {{{"url", "socket"},
          true,
          "set exactly one of 'url' (the stats page in CSV, e.g. http://lb:8404/stats;csv) or "
          "'socket' (the runtime API socket)"},
         {{"backends", "backend_regex"},
          false,
          "set 'backends' (backend name: system) or 'backend_regex' (its first group names the "
          "system)"}});
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    HaproxyConfig c;
    c.name = cfg.name();
    c.url = cfg.string("url");
    c.socket = cfg.string("socket");
    if (const YAML::Node b = cfg.node("backends")) {
      for (const auto& kv : b) {
        if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
          return fieldError(cfg.file(), kv.second, "backends", "must map backend names to systems");
        }
        c.backends[kv.first.as<std::string>()] = kv.second.Scalar();
      }
    }
    if (cfg.has("backend_regex")) {
      auto compiled = Regex::compile(cfg.string("backend_regex"));
      if (!compiled) return cfg.error("backend_regex", compiled.error().message);
      if (compiled->groups() < 1) {
        return cfg.error("backend_regex", "needs a capture group: the system's name");
      }
      c.backend_regex = std::move(*compiled);
    }
    c.config_file = cfg.string("config_file");
    auto http = parseHttpOptions(cfg);
    if (!http) return http.error();
    c.http = std::move(*http);
    return std::unique_ptr<Collector>(new HaproxyCollector(std::move(c)));
  }
};

}  // namespace

Status registerHaproxy(Registry& registry) {
  return registry.add(std::make_unique<HaproxyFactory>());
}

}  // namespace opsm::collectors::haproxy
