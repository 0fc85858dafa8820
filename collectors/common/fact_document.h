#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result.h"
#include "common/yaml_util.h"
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

// The YAML a plugin may print, at most: yaml-cpp takes ~250 times the text's size in memory
// (a 1 MiB flow list costs ~260 MB), so larger fact documents must be JSON.
inline constexpr size_t kMaxYamlFactBytes = 128u << 10;

// Reads a fact document from text: JSON (it starts with '{') with RapidJSON, bounded in depth
// and costing a few times its size; anything else as YAML, refused past kMaxYamlFactBytes and
// read within `limits` (aliases counted as expanded, the poll's deadline).
Result<std::vector<scorer::Fact>> parseFactText(const std::string& text,
                                                const std::string& prefix,
                                                const std::string& origin,
                                                const std::string& locator,
                                                size_t max_facts = 100000,
                                                const YamlLimits& limits = {});

}  // namespace opsm::collectors
