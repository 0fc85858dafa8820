#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result.h"
#include "scorer/evidence.h"
#include "scorer/rules.h"

namespace opsm::scorer {

// The source name attestation evidence carries.
inline constexpr const char* kAttestationSource = "attestations";

// Reads an attestations file (YAML or JSON):
//
//   attestations:
//     - system: payments
//       criterion: 6.1.6/L2/1
//       met: true                     # default true; false attests the requirement is not met
//       attested_by: Li Wei <li.wei@example.com>
//       document: https://wiki.example.com/ops/alerting-rules
//       date: 2026-10-01              # when it was attested; not in the future
//       expires: 2027-10-01           # optional
//
// Each becomes evidence attestation.<criterion> for the system, observed at `date` and
// expiring at the earlier of `expires` and `date` + the criterion's max_age: an expired
// attestation counts as unknown. Errors name the file, line and field.
Result<std::vector<Evidence>> loadAttestations(const std::string& path, const RulePack& pack,
                                               TimePoint now);

// The same from a parsed document (e.g. the body of POST /api/v1/attestations); `origin`
// names it in errors and provenance, `source` is the evidence source name.
Result<std::vector<Evidence>> parseAttestations(const YAML::Node& root, const std::string& origin,
                                                const RulePack& pack, TimePoint now,
                                                const std::string& source);

// The source name of attestations received through the HTTP API (kept in the store).
inline constexpr const char* kApiAttestationSource = "attestations-api";

}  // namespace opsm::scorer
