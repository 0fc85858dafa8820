#include "agent/exposition/routes.h"

#include <algorithm>

#include "agent/exposition/api.h"
#include "agent/exposition/console.h"
#include "agent/exposition/metrics.h"
#include "agent/exposition/web.h"
#include "common/log.h"

namespace opsm::agent {

namespace {

HttpReply text(unsigned status, std::string body) {
  return HttpReply{status, "text/plain; charset=utf-8", std::move(body)};
}

HttpReply metrics(const RouteContext& c) {
  return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", renderMetrics(c.agent)};
}

HttpReply healthy(const RouteContext&) { return text(200, "OK\n"); }

HttpReply ready(const RouteContext& c) {
  if (c.agent.storeCorrupt()) {
    return text(503,
                "not ready: the store is damaged (SQLITE_CORRUPT): stop the agent, keep a copy of "
                "the file, run `opsmaturity store check` and recover it "
                "(docs/deploy.md#a-damaged-store)\n");
  }
  if (!c.agent.storeWritable()) {
    return text(503,
                "not ready: the last write to the store failed (see the log and "
                "opsmaturity_store_errors_total)\n");
  }
  if (c.agent.ready()) return text(200, "OK\n");
  return text(503, "not ready: waiting for the first poll of every collector\n");
}

HttpReply index(const RouteContext&) {
  return HttpReply{200, "text/html; charset=utf-8",
                   "<html><head><title>opsmaturity</title></head><body><h1>opsmaturity</h1>"
                   "<ul><li><a href=\"/ui/\">/ui/</a> (console)</li>"
                   "<li><a href=\"/metrics\">/metrics</a></li>"
                   "<li><a href=\"/-/healthy\">/-/healthy</a></li>"
                   "<li><a href=\"/-/ready\">/-/ready</a></li></ul></body></html>\n"};
}

// A reload restarts what the rules decide: the admin credential only (SIGHUP reloads too), so
// that no web page can make a browser post it.
HttpReply reload(const RouteContext& c) {
  if (auto st = c.agent.reload(c.who.name); !st) {
    logger("agent")->error("reload failed, keeping the running rules: {}", st.error().message);
    return text(500, "reload failed, keeping the running rules: " + st.error().message + "\n");
  }
  return text(200, "reloaded\n");
}

// The segments of a path ("/api/v1/systems/x" -> api, v1, systems, x); empty segments count.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t at = path.empty() || path[0] != '/' ? 0 : 1;
  while (true) {
    size_t slash = path.find('/', at);
    out.push_back(path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return out;
}

// Whether `path` matches `pattern`, and the decoded values of its {} segments.
bool matches(std::string_view pattern, std::string_view path, std::vector<std::string>* params) {
  const auto want = segments(pattern), got = segments(path);
  if (want.size() != got.size()) return false;
  std::vector<std::string> values;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      if (got[i].empty()) return false;
      values.push_back(percentDecode(got[i]));
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  *params = std::move(values);
  return true;
}

bool isApi(std::string_view path) { return path.rfind("/api/", 0) == 0; }

// Names the snapshot generation an answer was rendered from (its first field after
// schema_version): a reader can tell whether two answers, or an answer and /metrics
// (opsmaturity_snapshot_generation), show the same scoring.
void stampGeneration(HttpReply* reply, uint64_t generation) {
  std::string& body = reply->body;
  if (body.empty() || body[0] != '{') return;
  const std::string field = "\"generation\":" + std::to_string(generation);
  static const std::string kSchema = "{\"schema_version\":";
  if (body.compare(0, kSchema.size(), kSchema) == 0) {
    const size_t at = body.find_first_not_of("0123456789", kSchema.size());
    if (at != std::string::npos) body.insert(at, "," + field);
    return;
  }
  body.insert(1, field + (body.size() > 1 && body[1] == '}' ? "" : ","));
}

}  // namespace

const std::vector<Route>& routeTable() {
  using A = Access;
  using L = Lane;
  static const std::vector<Route> kRoutes = {
      // The agent.
      {"GET", "/metrics", A::kOpen, L::kIo, metrics, "the Prometheus exposition"},
      {"GET", "/-/healthy", A::kOpen, L::kIo, healthy, "liveness"},
      {"GET", "/-/ready", A::kOpen, L::kIo, ready, "readiness"},
      {"GET", "/", A::kOpen, L::kIo, index, "the index page"},
      {"POST", "/-/reload", A::kAdmin, L::kScorer, reload, "reloading over HTTP (SIGHUP reloads)"},
      // The API (docs/api.md).
      {"GET", "/api/v1/systems", A::kRead, L::kReader, api::systems, "reading the API"},
      {"GET", "/api/v1/systems/{}", A::kRead, L::kReader, api::system, "reading the API"},
      {"GET", "/api/v1/evidence", A::kRead, L::kReader, api::evidence, "reading the API"},
      {"GET", "/api/v1/regressions", A::kRead, L::kReader, api::regressions, "reading the API"},
      {"GET", "/api/v1/audit", A::kRead, L::kReader, api::audit, "reading the API"},
      {"GET", "/api/v1/whoami", A::kViewer, L::kReader, api::whoami, "identifying"},
      {"GET", "/api/v1/attestations", A::kRead, L::kReader, api::listAttestations, "reading the API"},
      {"POST", "/api/v1/attestations", A::kAttester, L::kScorer, api::postAttestations, "attesting"},
      {"GET", "/api/v1/attestations/{}", A::kRead, L::kReader, api::getAttestation, "reading the API"},
      {"POST", "/api/v1/attestations/{}/approve", A::kApprover, L::kScorer, api::approveAttestation,
       "deciding on attestations"},
      {"POST", "/api/v1/attestations/{}/reject", A::kApprover, L::kScorer, api::rejectAttestation,
       "deciding on attestations"},
      {"POST", "/api/v1/attestations/{}/revoke", A::kAttester, L::kScorer, api::revokeAttestation,
       "revoking"},
      {"GET", "/api/v1/waivers", A::kRead, L::kReader, api::listWaivers, "reading the API"},
      {"POST", "/api/v1/waivers", A::kAttester, L::kScorer, api::postWaivers, "asking for waivers"},
      {"GET", "/api/v1/waivers/{}", A::kRead, L::kReader, api::getWaiver, "reading the API"},
      {"POST", "/api/v1/waivers/{}/approve", A::kApprover, L::kScorer, api::approveWaiver,
       "deciding on waivers"},
      {"POST", "/api/v1/waivers/{}/reject", A::kApprover, L::kScorer, api::rejectWaiver,
       "deciding on waivers"},
      {"POST", "/api/v1/waivers/{}/revoke", A::kAttester, L::kScorer, api::revokeWaiver, "revoking"},
      // The console (docs/console.md); its writes go through the API.
      {"GET", "/ui", A::kRead, L::kReader, console::redirect, "reading the API and console"},
      {"GET", "/ui/static/app.css", A::kOpen, L::kReader, console::css, "the console's style"},
      {"GET", "/ui/static/app.js", A::kOpen, L::kReader, console::js, "the console's script"},
      {"GET", "/ui/", A::kRead, L::kReader, console::overview, "reading the API and console"},
      {"GET", "/ui/reviews", A::kRead, L::kReader, console::reviews, "reading the API and console"},
      {"GET", "/ui/report-card", A::kRead, L::kReader, console::reportCard,
       "reading the API and console"},
      {"GET", "/ui/systems/{}", A::kRead, L::kReader, console::system, "reading the API and console"},
  };
  return kRoutes;
}

Routed findRoute(const HttpRequest& request) {
  Routed out;
  const std::string path = request.path();
  const bool get = request.method == "GET" || request.method == "HEAD";
  std::vector<std::string> allowed;
  for (const Route& r : routeTable()) {
    std::vector<std::string> params;
    if (!matches(r.pattern, path, &params)) continue;
    if ((std::string_view(r.method) == "GET" && get) || r.method == request.method) {
      out.route = &r;
      out.params = std::move(params);
      return out;
    }
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) allowed.push_back(r.method);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m + (m == "GET" ? ", HEAD" : "");
    std::string use;
    for (const auto& m : allowed) use += (use.empty() ? "" : " or ") + m;
    HttpReply reply = isApi(path) ? api::errorReply(405, "use " + use)
                      : path.rfind("/ui", 0) == 0
                          ? text(405, "use GET (writes go through /api/v1)\n")
                          : text(405, "use " + use + " " + path + "\n");
    reply.headers["Allow"] = allow;
    out.refused = std::move(reply);
    return out;
  }
  if (isApi(path)) {
    out.refused = api::errorReply(404, "no such API endpoint: " + path);
  } else if (path == "/ui" || path.rfind("/ui/", 0) == 0) {
    out.refused = console::notFound();
  } else {
    out.refused = text(404, "not found\n");
  }
  return out;
}

HttpReply serveRoute(Agent& agent, const Routed& routed, const HttpRequest& request) {
  const Route& r = *routed.route;
  Principal who;
  std::optional<Role> needs;
  switch (r.access) {
    case Access::kOpen:
      break;
    case Access::kRead:
      if (agent.config().read_requires_token) needs = Role::kViewer;
      break;
    case Access::kViewer:
      needs = Role::kViewer;
      break;
    case Access::kAttester:
      needs = Role::kAttester;
      break;
    case Access::kApprover:
      needs = Role::kApprover;
      break;
    case Access::kAdmin:
      needs = Role::kAdmin;
      break;
  }
  if (needs) {
    if (auto denied = requireRole(agent, request, *needs, r.what, &who)) return *denied;
  }
  const bool write = std::string_view(r.method) == "POST";
  RouteContext c{agent, request, routed.params, who, agent.snapshot()};
  c.generation = c.snapshot->generation;
  HttpReply reply = r.handler(c);
  if (isApi(request.path())) {
    // A write answers once the scoring it caused is published: it names that snapshot (or a
    // later one; either holds the write).
    stampGeneration(&reply, write ? agent.snapshot()->generation : c.generation);
  }
  return reply;
}

HttpReply route(Agent& agent, const HttpRequest& request) {
  Routed routed = findRoute(request);
  if (!routed.route) return std::move(*routed.refused);
  return serveRoute(agent, routed, request);
}

}  // namespace opsm::agent
