#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result.h"
#include "scorer/evidence.h"

namespace opsm::collectors {

// Reads facts from a document printed by an exec plugin or kept in a facts file:
//
//   {"facts": [{"system": "payments", "key": "plugin.dr.drill_passed", "value": true},
//              {"system": "payments", "key": "plugin.dr.sites", "value": ["sh", "bj"]}]}
//
// Values are booleans, numbers, strings (quoted scalars stay strings) or lists of strings.
// Every key must start with `prefix` ("plugin." or "file."). Errors name `origin`, the fact's
// index and field. At most `max_facts` facts are accepted.
Result<std::vector<scorer::Fact>> parseFactDocument(const YAML::Node& root,
                                                    const std::string& prefix,
                                                    const std::string& origin,
                                                    const std::string& locator,
                                                    size_t max_facts = 100000);

}  // namespace opsm::collectors
