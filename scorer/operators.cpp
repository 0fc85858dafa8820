#include "scorer/operators.h"

#include <algorithm>
#include <cmath>

#include "common/regex.h"

namespace opsm::scorer {

namespace {

using Op = Condition::Op;
using Operand = Operator::Operand;
using Takes = Operator::Takes;

// eq and ne compare a number, a bool or a string with a literal of its type.
template <typename Cmp>
bool same(const Condition& c, const Value& v, Cmp cmp) {
  if (v.isNumber()) return cmp(v.asNumber(), c.literal.asNumber());
  if (v.isBool()) return cmp(v.asBool(), c.literal.asBool());
  return cmp(v.asString(), c.literal.asString());
}

std::string valueAsText(const Value& v) { return v.isString() ? v.asString() : v.toString(); }

}  // namespace

const std::vector<Operator>& operators() {
  static const std::vector<Operator> kOperators = {
      {Op::kEq, "eq", "==", Operand::kScalar, Takes::kLiteralsType, false, false,
       [](const Condition& c, const Value& v) { return same(c, v, [](auto a, auto b) { return a == b; }); },
       "equal to a number, true/false or a string of the evidence's type"},
      {Op::kNe, "ne", "!=", Operand::kScalar, Takes::kLiteralsType, false, false,
       [](const Condition& c, const Value& v) { return same(c, v, [](auto a, auto b) { return a != b; }); },
       "not equal"},
      {Op::kLt, "lt", "<", Operand::kNumber, Takes::kNumber, false, true,
       [](const Condition& c, const Value& v) { return v.asNumber() < c.literal.asNumber(); },
       "less than a number (or, with age(), a duration)"},
      {Op::kLe, "le", "<=", Operand::kNumber, Takes::kNumber, false, true,
       [](const Condition& c, const Value& v) { return v.asNumber() <= c.literal.asNumber(); },
       "at most"},
      {Op::kGt, "gt", ">", Operand::kNumber, Takes::kNumber, false, true,
       [](const Condition& c, const Value& v) { return v.asNumber() > c.literal.asNumber(); },
       "more than"},
      {Op::kGe, "ge", ">=", Operand::kNumber, Takes::kNumber, false, true,
       [](const Condition& c, const Value& v) { return v.asNumber() >= c.literal.asNumber(); },
       "at least"},
      {Op::kIn, "in", "in", Operand::kScalarList, Takes::kScalar, true, false,
       [](const Condition& c, const Value& v) {
         const std::string text = valueAsText(v);
         const auto& list = c.literal.asList();
         return std::find(list.begin(), list.end(), text) != list.end();
       },
       "the value (as text) is one of a non-empty list"},
      {Op::kContains, "contains", "contains", Operand::kString, Takes::kListOrString, true, false,
       [](const Condition& c, const Value& v) {
         if (v.isList()) {
           const auto& list = v.asList();
           return std::find(list.begin(), list.end(), c.literal.asString()) != list.end();
         }
         return v.asString().find(c.literal.asString()) != std::string::npos;
       },
       "a list holds the string, or a string holds it"},
      {Op::kMatches, "matches", "matches", Operand::kRegex, Takes::kString, true, false,
       [](const Condition& c, const Value& v) { return c.re->fullMatch(v.asString()); },
       "a string matches an RE2 regular expression, whole"},
  };
  return kOperators;
}

const Operator& operatorOf(Condition::Op op) {
  // The rows are in the order of Condition::Op (OperatorsTest checks).
  return operators()[static_cast<size_t>(op)];
}

const Operator* operatorNamed(std::string_view name) {
  const auto& all = operators();
  auto it = std::find_if(all.begin(), all.end(), [&](const Operator& o) { return o.name == name; });
  return it == all.end() ? nullptr : &*it;
}

bool takes(const Operator& op, ValueType type, const Value& literal, std::string* why) {
  bool ok = false;
  const char* needs = "";
  switch (op.takes) {
    case Takes::kLiteralsType:
      ok = type == literal.type() && type != ValueType::kList;
      needs = valueTypeName(literal.type());
      break;
    case Takes::kNumber:
      ok = type == ValueType::kNumber;
      needs = valueTypeName(ValueType::kNumber);
      break;
    case Takes::kScalar:
      ok = type != ValueType::kList;
      needs = "a scalar";
      break;
    case Takes::kListOrString:
      ok = type == ValueType::kList || type == ValueType::kString;
      needs = "a list or string";
      break;
    case Takes::kString:
      ok = type == ValueType::kString;
      needs = "a string";
      break;
  }
  if (!ok && why) *why = needs;
  return ok;
}

}  // namespace opsm::scorer
