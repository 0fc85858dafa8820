// Plugin output: JSON is read with RapidJSON (cheap, depth-bounded); YAML, which yaml-cpp
// reads at ~250 times its size in memory, is refused past kMaxYamlFactBytes.
#include "collectors/common/fact_document.h"

#include <gtest/gtest.h>

namespace opsm::collectors {
namespace {

TEST(FactText, JsonAndYamlGiveTheSameFacts) {
  const std::string json =
      R"({"facts": [{"system": "payments", "key": "plugin.dr.passed", "value": true},
                    {"system": "payments", "key": "plugin.dr.count", "value": 3},
                    {"system": "payments", "key": "plugin.dr.quoted", "value": "3"},
                    {"system": "payments", "key": "plugin.dr.sites", "value": ["sh", "bj"]}]})";
  const std::string yaml =
      "facts:\n"
      "  - {system: payments, key: plugin.dr.passed, value: true}\n"
      "  - {system: payments, key: plugin.dr.count, value: 3}\n"
      "  - {system: payments, key: plugin.dr.quoted, value: \"3\"}\n"
      "  - {system: payments, key: plugin.dr.sites, value: [sh, bj]}\n";
  auto a = parseFactText(json, "plugin.", "p output", "p");
  auto b = parseFactText(yaml, "plugin.", "p output", "p");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_EQ(a->size(), 4u);
  ASSERT_EQ(b->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*a)[i].key, (*b)[i].key);
    EXPECT_EQ((*a)[i].value, (*b)[i].value) << (*a)[i].key;
    EXPECT_EQ((*a)[i].locator, "p");
  }
  EXPECT_TRUE((*a)[2].value.isString());
}

TEST(FactText, JsonErrorsNameTheFactAndField) {
  auto r = parseFactText(R"({"facts": [{"system": "s", "key": "plugin.a.b", "value": 1},
                                       {"system": "s", "key": "other.x", "value": 1}]})",
                         "plugin.", "p output", "p");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("p output: field 'facts[1].key'"), std::string::npos)
      << r.error().message;
  r = parseFactText(R"({"facts": [{"system": "s", "key": "plugin.a.b", "value": {"x": 1}}]})",
                    "plugin.", "p output", "p");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("facts[0].value"), std::string::npos);
  r = parseFactText(std::string(100000, '{'), "plugin.", "p output", "p");
  ASSERT_FALSE(r);  // a nesting bomb is refused, not recursed into
}

TEST(FactText, LargeJsonIsReadLargeYamlIsRefused) {
  std::string json = R"({"facts": [)";
  std::string yaml = "facts:\n";
  for (int i = 0; i < 20000; ++i) {
    json += (i ? "," : "") + std::string(R"({"system": "s)") + std::to_string(i) +
            R"(", "key": "plugin.a.b", "value": 1})";
    yaml += "  - {system: s" + std::to_string(i) + ", key: plugin.a.b, value: 1}\n";
  }
  json += "]}";
  ASSERT_GT(json.size(), kMaxYamlFactBytes);
  auto a = parseFactText(json, "plugin.", "p output", "p");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->size(), 20000u);
  auto b = parseFactText(yaml, "plugin.", "p output", "p");
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("YAML larger than 131072 bytes"), std::string::npos)
      << b.error().message;
  EXPECT_NE(b.error().message.find("print JSON"), std::string::npos);
}

}  // namespace
}  // namespace opsm::collectors
