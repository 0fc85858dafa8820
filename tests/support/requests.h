#pragma once

#include <string>
#include <vector>

#include "agent/core/agent.h"
#include "agent/exposition/requests.h"

namespace opsm::testing {

// What POST /api/v1/attestations and /api/v1/waivers do with a body, without HTTP: parse it as
// the API does (agent/exposition/requests.h), then write it through the agent.
inline Result<std::vector<scorer::Attestation>> attest(agent::Agent& a, const std::string& body,
                                                        const agent::Principal& who) {
  auto request = agent::parseAttestationRequest(body, who, *a.rules(), a.now());
  if (!request) return request.error();
  return a.addAttestations(std::move(*request), who);
}

inline Result<agent::Waiver> askWaiver(agent::Agent& a, const std::string& body,
                                       const agent::Principal& who) {
  auto request = agent::parseWaiverRequest(body, *a.rules(), a.now());
  if (!request) return request.error();
  return a.addWaiver(std::move(*request), who);
}

}  // namespace opsm::testing
