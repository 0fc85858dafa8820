#pragma once

#include "agent/core/agent.h"
#include "agent/exposition/http_server.h"

namespace opsm::agent {

// The JSON HTTP API under /api/v1/ (see docs/api.md): systems, one system's criteria with the
// evidence behind them and the gaps to its next level, evidence, regressions, and
// POST /api/v1/attestations (bearer token). Returns nullopt for paths it does not serve.
std::optional<HttpReply> apiRoute(Agent& agent, const HttpRequest& request);

// The credential of write endpoints: a bearer token of the tokens file (or api_token, the
// admin named "admin") whose role is at least `role`. Returns the error reply (403 without any
// token configured, naming `what`; 401 with a missing or unknown token; 403 naming the token
// and the role needed when its role is too low), or nullopt when the request may proceed,
// with `who` (if not null) set to the token's holder.
std::optional<HttpReply> requireRole(const Agent& agent, const HttpRequest& request, Role role,
                                     const std::string& what, Principal* who = nullptr);

// Whether the request's Content-Type is exactly `media_type` (parameters such as charset
// allowed): "application/jsonfoo" is not application/json.
bool hasMediaType(const HttpRequest& request, const std::string& media_type);

}  // namespace opsm::agent
