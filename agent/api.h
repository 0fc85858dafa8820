#pragma once

#include "agent/agent.h"
#include "agent/http_server.h"

namespace opsm::agent {

// The JSON HTTP API under /api/v1/ (see docs/api.md): systems, one system's criteria with the
// evidence behind them and the gaps to its next level, evidence, regressions, and
// POST /api/v1/attestations (bearer token). Returns nullopt for paths it does not serve.
std::optional<HttpReply> apiRoute(Agent& agent, const HttpRequest& request);

// The admin credential of write endpoints (POST /api/v1/attestations, POST /-/reload): the
// bearer token of api_token_file/api_token_env, compared in constant time. Returns the error
// reply (403 without a token configured, naming `what`; 401 with a missing or wrong one), or
// nullopt when the request may proceed.
std::optional<HttpReply> requireAdmin(const Agent& agent, const HttpRequest& request,
                                      const std::string& what);

// Whether the request's Content-Type is exactly `media_type` (parameters such as charset
// allowed): "application/jsonfoo" is not application/json.
bool hasMediaType(const HttpRequest& request, const std::string& media_type);

}  // namespace opsm::agent
