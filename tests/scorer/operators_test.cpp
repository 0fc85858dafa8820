#include "scorer/operators.h"

#include <gtest/gtest.h>

#include <set>

#include "scorer/engine.h"

namespace opsm::scorer {
namespace {

// One row per operator, in the order of Condition::Op (operatorOf indexes by it), each name
// and symbol once; a rule file's key finds its row.
TEST(OperatorsTest, OneRowPerOperatorInTheEnumsOrder) {
  std::set<std::string> names, symbols;
  for (size_t i = 0; i < operators().size(); ++i) {
    const Operator& o = operators()[i];
    EXPECT_EQ(static_cast<size_t>(o.op), i) << o.name;
    EXPECT_EQ(&operatorOf(o.op), &o);
    EXPECT_EQ(operatorNamed(o.name), &o);
    EXPECT_TRUE(names.insert(o.name).second) << o.name;
    EXPECT_TRUE(symbols.insert(o.symbol).second) << o.symbol;
    EXPECT_STREQ(opName(o.op), o.name);
  }
  EXPECT_EQ(static_cast<size_t>(Condition::Op::kMatches) + 1, operators().size());
  EXPECT_EQ(operatorNamed("lte"), nullptr);
}

TEST(OperatorsTest, WhatEachTakes) {
  const Value number(3.0), text("x");
  EXPECT_TRUE(takes(operatorOf(Condition::Op::kEq), ValueType::kNumber, number));
  std::string why;
  EXPECT_FALSE(takes(operatorOf(Condition::Op::kEq), ValueType::kString, number, &why));
  EXPECT_EQ(why, "number");
  EXPECT_FALSE(takes(operatorOf(Condition::Op::kLe), ValueType::kBool, number, &why));
  EXPECT_FALSE(takes(operatorOf(Condition::Op::kIn), ValueType::kList, text, &why));
  EXPECT_EQ(why, "a scalar");
  EXPECT_TRUE(takes(operatorOf(Condition::Op::kContains), ValueType::kString, text));
  EXPECT_TRUE(takes(operatorOf(Condition::Op::kContains), ValueType::kList, text));
  EXPECT_FALSE(takes(operatorOf(Condition::Op::kMatches), ValueType::kList, text, &why));
  EXPECT_EQ(why, "a string");
}

}  // namespace
}  // namespace opsm::scorer
