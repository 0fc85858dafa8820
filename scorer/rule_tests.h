#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "scorer/catalog.h"

namespace opsm::scorer {

// `opsmaturity rules test`: unit tests for the rule pack in the style of
// `promtool test rules`. A test file gives evidence (and attestations) for a system and
// expects item levels and criterion states:
//
//   rules_dir: ..                         # the pack, relative to this file [..]
//   evaluation_time: 2026-11-24T12:00:00Z # "now" for ages and expiry [now]
//   tests:
//     - name: two channels reach level 1
//       evidence:
//         monitoring.prometheus.alerting_rules: 3
//         alerting.alertmanager.integration_types: [email, webhook]
//         monitoring.prometheus.tsdb_head_series: {value: 10, age: 2h, ttl: 1h}  # expired
//       attested: [6.1.6/L2/1]            # attested as met
//       attested_not_met: [6.1.6/L2/3]    # attested as not met
//       expect:
//         - {item: "6.1.6", level: 1, progress: 1.25}
//         - {criterion: 6.1.6/L1/3, state: pass}
//
// Evidence keys must be in the catalog; criteria named must exist.
struct RuleTestOutcome {
  int passed = 0;
  int failed = 0;
  std::vector<std::string> failures;  // "file:line: test 'name': what differs"
};

Result<RuleTestOutcome> runRuleTests(const std::string& path, const EvidenceCatalog& catalog);

}  // namespace opsm::scorer
