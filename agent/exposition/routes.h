#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/agent.h"
#include "agent/exposition/http_server.h"

namespace opsm::agent {

// Who may call a route (docs/api.md#authentication).
enum class Access {
  kOpen,      // anyone: /metrics, the health endpoints, the console's script and style
  kRead,      // anyone, or a viewer's token when read_requires_token is set
  kViewer,    // a token of any role
  kAttester,  // a token of the attester role or above
  kApprover,
  kAdmin,
};

// Which thread answers it (docs/architecture.md#threads): the I/O thread (cheap answers:
// health, /metrics), the reader thread (the API's and the console's pages), or the scorer
// thread (writes, which rescore before they answer).
enum class Lane { kIo, kReader, kScorer };

// What a handler is given: the request, the {…} segments of its path (percent-decoded), the
// caller (for routes past kRead) and the snapshot it renders (a write's is taken after it).
struct RouteContext {
  Agent& agent;
  const HttpRequest& request;
  const std::vector<std::string>& params;
  const Principal& who;
  std::shared_ptr<const Snapshot> snapshot;
  // The generation the answer names: the snapshot's, unless the handler rendered a later one
  // (a system's page scores a system that changed since: Agent::explainedScore).
  mutable uint64_t generation = 0;
};
using RouteHandler = HttpReply (*)(const RouteContext&);

// One endpoint of the agent, as Envoy's admin handlers are: method, path pattern ("{}" is one
// path segment), who may call it, where it runs, its handler, and what it does (the error
// that refuses a caller names it). Every endpoint of the API, the console and the agent is one
// row of routeTable() (routes.cpp).
struct Route {
  const char* method;   // "GET" (HEAD too) or "POST"
  const char* pattern;  // "/api/v1/systems/{}"
  Access access;
  Lane lane;
  RouteHandler handler;
  const char* what;
};
const std::vector<Route>& routeTable();

// The route of a request and its path's parameters, or the reply refusing it: 404 (no such
// path), 405 (the path exists for other methods; Allow names them). API paths are answered in
// JSON, the others in text.
struct Routed {
  const Route* route = nullptr;
  std::vector<std::string> params;
  std::optional<HttpReply> refused;
};
Routed findRoute(const HttpRequest& request);

// Checks the caller against the route's access, takes the snapshot, runs the handler; API
// answers name the generation they were rendered from (a write's, the snapshot published after
// it). `routed` must have a route.
HttpReply serveRoute(Agent& agent, const Routed& routed, const HttpRequest& request);

// findRoute and serveRoute in one (tests, and the daemon's fallback).
HttpReply route(Agent& agent, const HttpRequest& request);

}  // namespace opsm::agent
