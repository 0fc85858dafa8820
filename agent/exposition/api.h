#pragma once

#include "agent/core/agent.h"
#include "agent/exposition/http_server.h"

#include <map>
#include <string>

namespace opsm::agent {

struct RouteContext;

// The JSON HTTP API under /api/v1/ (see docs/api.md): the handlers of its routes
// (routes.cpp holds the table: method, path, access, thread). Systems, one system's criteria
// with the evidence behind them and the gaps to its next level, evidence, regressions, the
// attestations and waivers and their decisions, the audit log, who the caller is.
namespace api {
HttpReply systems(const RouteContext& c);
HttpReply system(const RouteContext& c);  // params: the system
HttpReply evidence(const RouteContext& c);
HttpReply regressions(const RouteContext& c);
HttpReply audit(const RouteContext& c);
HttpReply whoami(const RouteContext& c);
HttpReply listAttestations(const RouteContext& c);
HttpReply postAttestations(const RouteContext& c);
HttpReply getAttestation(const RouteContext& c);  // params: the id
HttpReply approveAttestation(const RouteContext& c);
HttpReply rejectAttestation(const RouteContext& c);
HttpReply revokeAttestation(const RouteContext& c);
HttpReply listWaivers(const RouteContext& c);
HttpReply postWaivers(const RouteContext& c);
HttpReply getWaiver(const RouteContext& c);
HttpReply approveWaiver(const RouteContext& c);
HttpReply rejectWaiver(const RouteContext& c);
HttpReply revokeWaiver(const RouteContext& c);
// The API's error body: {"error": message}.
HttpReply errorReply(unsigned status, const std::string& message,
                     std::map<std::string, std::string> headers = {});
}  // namespace api

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
