#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "scorer/evidence.h"
#include "scorer/rules.h"

namespace opsm::scorer {

enum class Tri;

// The rule language's comparison operators, one row each (operators.cpp): everything the
// compiler, the evaluator, `rules check` and the docs know of an operator is in its row. A
// new operator is a new row (and its Condition::Op).
struct Operator {
  Condition::Op op;
  const char* name;    // its key in a rule file: {key: x, le: 3}
  const char* symbol;  // in explanations: "x <= 3"
  // The right-hand side a rule gives.
  enum class Operand { kScalar, kNumber, kScalarList, kString, kRegex } operand;
  // The evidence it compares: of the literal's type, a number, a scalar, a list or a string,
  // a string; anything else is unknown (the evaluator names why).
  enum class Takes { kLiteralsType, kNumber, kScalar, kListOrString, kString } takes;
  bool key_only;  // compares a key's value only, not len() or age()
  bool ordering;  // lt, le, gt, ge: also compares age()
  // Whether `v` (of a type it takes) passes against the condition's literal (or regex).
  bool (*holds)(const Condition& c, const Value& v);
  const char* help;  // for docs/rule-language.md
};

// Every operator, in the order the docs list them.
const std::vector<Operator>& operators();
// The row of `op`; the row named `name`, or null.
const Operator& operatorOf(Condition::Op op);
const Operator* operatorNamed(std::string_view name);
// Whether `op` takes evidence of `type` compared with `literal`; else, when `why` is given,
// says what it needs ("a number", "a list or string").
bool takes(const Operator& op, ValueType type, const Value& literal, std::string* why = nullptr);

}  // namespace opsm::scorer
