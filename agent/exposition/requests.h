#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/core/auth.h"
#include "agent/core/ledger.h"
#include "collectors/config_schema.h"
#include "scorer/rules.h"
#include "common/result.h"

namespace opsm::agent {

// The deepest nesting a request body may have (an object in a list in an object is 3).
inline constexpr size_t kMaxRequestBodyDepth = 8;

// The shape of a request body, stated once per endpoint with the collectors' config keys
// (collectors::ConfigKey): kString, kBool, kNumber, kInteger and kStringList as in JSON;
// kMap with fields() an object of those fields; kList with fields() a list of such objects.
// Keys not declared, a key given twice, a wrong type, a required key missing or empty, a
// value not among choices, and a control character in any string are refused, each naming
// the field ("request body: field 'attestations[1].met': must be true or false").
using BodySchema = std::vector<collectors::ConfigKey>;

// Reads a request body sent as application/json — with RapidJSON, never YAML (no aliases,
// tags or anchors: what is sent is what is stored) — bounded in depth, checks it against
// `schema`, and gives it as a YAML node (objects as mappings, values as scalars) for the
// parsers the attestations file shares. Errors are kInvalidArgument.
Result<YAML::Node> readJsonBody(const std::string& body, const BodySchema& schema);
// A body that is either {"<list_key>": [item, ...]} or one item: the first when the object has
// `list_key` (the list is then required and not empty), else `item` is its schema.
Result<YAML::Node> readJsonBody(const std::string& body, const std::string& list_key,
                                const BodySchema& item);

// The fields of one attestation sent to POST /api/v1/attestations (those of the attestations
// file; approved_by is declared so that it is refused with the way to approve) and of a
// waiver sent to POST /api/v1/waivers (docs/api.md).
BodySchema attestationBodySchema();
BodySchema waiverBodySchema();


// The typed requests of the ledger's writes, parsed and validated here, where the HTTP body
// arrives, so that the agent's core takes types and never a request body.
//
// POST /api/v1/attestations: {"attestations": [...]} or one attestation object, each
// validated like the attestations file against `pack` (attested_by, when given, must be
// who's name; approved_by is refused: approval is a decision of someone else), none expired
// at `now`, no document link with credentials. Errors name the field.
Result<std::vector<scorer::Attestation>> parseAttestationRequest(const std::string& body,
                                                                 const Principal& who,
                                                                 const scorer::RulePack& pack,
                                                                 TimePoint now);
// POST /api/v1/waivers: {system, criterion, justification, risk, expires}; the criterion must
// be in `pack`, the expiry within a year of `now`.
Result<Waiver> parseWaiverRequest(const std::string& body, const scorer::RulePack& pack,
                                  TimePoint now);

}  // namespace opsm::agent
