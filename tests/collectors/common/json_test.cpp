// The JSON reader every HTTP collector uses, against hostile bodies.
#include "collectors/common/json.h"

#include <gtest/gtest.h>

namespace opsm::collectors {
namespace {

TEST(ParseJson, NestingBombsAreRefusedNotACrash) {
  // 200 KB of "[": RapidJSON's recursive parse used to overflow the stack and kill the agent.
  auto arrays = parseJson(std::string(200'000, '['), "GET /api/v1/targets");
  ASSERT_FALSE(arrays.ok());
  EXPECT_EQ(arrays.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(arrays.error().message.find("GET /api/v1/targets: JSON nested deeper than 128 levels"),
            std::string::npos)
      << arrays.error().message;
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(parseJson(objects, "x").ok());
}

TEST(ParseJson, DepthIsCountedOutsideStringsOnly) {
  std::string deep_ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parseJson(deep_ok, "x").ok());
  std::string too_deep = "[" + deep_ok + "]";
  EXPECT_FALSE(parseJson(too_deep, "x").ok());
  // Brackets and escaped quotes inside strings are text.
  std::string text = "{\"s\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  auto doc = parseJson(text, "x");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ(stringMember(*doc, "s").size(), 2001u);
  EXPECT_EQ(jsonNestingDepth("[[1],[2,[3]]]", 100), 3u);
}

TEST(ParseJson, TruncatedAndEmptyBodiesNameTheOffset) {
  auto r = parseJson("{\"a\": [1, 2", "GET /x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("GET /x: invalid JSON at byte"), std::string::npos);
  EXPECT_FALSE(parseJson("", "GET /x").ok());
}

}  // namespace
}  // namespace opsm::collectors
