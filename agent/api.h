#pragma once

#include "agent/agent.h"
#include "agent/http_server.h"

namespace opsm::agent {

// The JSON HTTP API under /api/v1/ (see docs/api.md): systems, one system's criteria with the
// evidence behind them and the gaps to its next level, evidence, regressions, and
// POST /api/v1/attestations (bearer token). Returns nullopt for paths it does not serve.
std::optional<HttpReply> apiRoute(Agent& agent, const HttpRequest& request);

}  // namespace opsm::agent
