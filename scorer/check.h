#pragma once

#include <string>
#include <vector>

#include "scorer/catalog.h"
#include "scorer/rules.h"

namespace opsm::scorer {

struct Problem {
  std::string where;  // "rules/6.1.3-data-storage.yaml:12" or a file
  std::string message;
  // A warning (a rule naming a vendor key) does not make the pack invalid.
  bool warning = false;
  std::string describe() const { return where + ": " + (warning ? "warning: " : "") + message; }
};

// Validates the rule pack in `dir` without stopping at the first problem: every file
// compiles; every item of the model has exactly one file; every evidence key a condition
// references is produced by a known collector (or the agent) and has a type the operator
// accepts. With `standard_path`, also that every numbered requirement of the standard's text
// has exactly one criterion with its id and exact zh wording, and "同 4 级" where printed.
std::vector<Problem> checkRulePack(const std::string& dir, const EvidenceCatalog& catalog,
                                   const std::string& standard_path = "");

// The evidence keys a condition references, for coverage reports.
void conditionKeys(const Condition& c, std::vector<std::string>* keys);

}  // namespace opsm::scorer
