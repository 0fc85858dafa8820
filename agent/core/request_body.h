#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "collectors/config_schema.h"
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


}  // namespace opsm::agent
