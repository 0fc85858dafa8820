#include "common/yaml_util.h"

#include <gtest/gtest.h>

#include "tests/support/hostile_yaml.h"
#include "tests/support/temp_dir.h"

namespace opsm {
namespace {

TEST(LoadYamlFile, SyntaxErrorNamesFileLineAndColumn) {
  testing::TempDir dir;
  auto path = dir.write("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n");
  auto r = loadYamlFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find(path + ":"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("YAML syntax error"), std::string::npos);
}

TEST(LoadYamlFile, MissingFileIsNotFound) {
  auto r = loadYamlFile("/nonexistent/opsm.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(CheckKeys, NamesTheUnknownKeyAndItsLine) {
  auto node = *loadYamlString("url: x\n\nintervall: 5s\n", "c.yaml");
  auto st = checkKeys("c.yaml", node, {"url", "interval"}, "collector");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("c.yaml:3: field 'intervall'"), std::string::npos)
      << st.error().message;
}

TEST(ReadFields, WrongTypesAreRejectedWithTheField) {
  auto node = *loadYamlString("n: abc\nd: 10\nb: maybe\n", "f.yaml");
  auto n = readNumber("f.yaml", node, "n", 0);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("f.yaml:1: field 'n': must be a number"), std::string::npos);
  auto d = readDuration("f.yaml", node, "d", Duration(0));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("f.yaml:2: field 'd'"), std::string::npos);
  auto b = readBool("f.yaml", node, "b", false);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(*readNumber("f.yaml", node, "absent", 7.5), 7.5);
}

}  // namespace
}  // namespace opsm

namespace opsm {
namespace {

// A key given twice used to be kept silently (the first won): an operator's second
// `interval:` was ignored without a word.
TEST(LoadYaml, ADuplicateKeyIsAnErrorNamingLineAndField) {
  auto doc = loadYamlString("collectors:\n  - name: a\n    interval: 1m\n    interval: 5s\n",
                            "agent.yml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().message,
            "agent.yml:4: field 'interval': given twice in the same mapping (the first would win "
            "silently)");
  // The same key in different mappings is fine.
  EXPECT_TRUE(loadYamlString("a: {x: 1}\nb: {x: 2}\n", "f").ok());
}

}  // namespace
}  // namespace opsm

#include "common/log.h"

namespace opsm {
namespace {

TEST(Printable, ControlCharactersAreEscapedTabAndTextKept) {
  EXPECT_EQ(printable(std::string("ok\tv\x1b[31mred\r\nFAKE\0x\x7f", 21)),
            "ok\tv\\x1b[31mred\\x0d\\x0aFAKE\\x00x\\x7f");
  EXPECT_EQ(printable("系统 payments"), "系统 payments");
}

}  // namespace
}  // namespace opsm

namespace opsm {
namespace {

using testing::billionLaughs;

// The duplicate-key walk used to visit every alias again: this never returned.
TEST(BoundedYaml, ABillionLaughsIsRefusedAtOnceNamingTheLimit) {
  const std::string text = billionLaughs();
  ASSERT_LT(text.size(), 800u);
  auto doc = loadYamlString(text, "prometheus /api/v1/status/config");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().message.find("prometheus /api/v1/status/config:"), std::string::npos)
      << doc.error().message;
  EXPECT_NE(doc.error().message.find("once its aliases are expanded"), std::string::npos)
      << doc.error().message;
}

// A list aliasing one 60 KB scalar 15,000 times is 105 KB of text and 900 MB expanded.
TEST(BoundedYaml, AliasesOfALargeScalarAreCountedByTheBytesTheyExpandTo) {
  std::string text = "big: &big " + std::string(60000, 'x') + "\nlist: [";
  for (int i = 0; i < 15000; ++i) text += i ? ", *big" : "*big";
  text += "]\n";
  auto doc = loadYamlString(text, "facts.yml");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().message.find("bytes of scalars once its aliases are expanded"),
            std::string::npos)
      << doc.error().message;
}

TEST(BoundedYaml, AnchorsUsedAsPeopleUseThemAreRead) {
  auto doc = loadYamlString(
      "defaults: &d {interval: 1m, timeout: 10s}\n"
      "a: *d\nb: *d\nkey: &k system\nlabels: {*k : payments}\n",
      "facts.yml");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ((*doc)["b"]["timeout"].Scalar(), "10s");
  EXPECT_EQ((*doc)["labels"]["system"].Scalar(), "payments");
}

TEST(BoundedYaml, TheLimitsCountTheExpandedDocument) {
  // Nodes: the root, "a", the list and its 3 items, "b", and the alias as the list it names
  // (4): 11. Scalar bytes: "a", "x", "y", "z", "b", and the alias's 3: 8.
  const std::string text = "a: &a [x, y, z]\nb: *a\n";
  YamlLimits limits;
  limits.max_nodes = 11;
  EXPECT_TRUE(loadYamlString(text, "t.yml", limits).ok());
  limits.max_nodes = 10;
  EXPECT_FALSE(loadYamlString(text, "t.yml", limits).ok());
  limits = {};
  limits.max_bytes = 8;
  EXPECT_TRUE(loadYamlString(text, "t.yml", limits).ok());
  limits.max_bytes = 7;
  EXPECT_FALSE(loadYamlString(text, "t.yml", limits).ok());
}

TEST(BoundedYaml, AParseRunningPastTheDeadlineEndsWithATimeout) {
  std::string text = "list:\n";
  for (int i = 0; i < 5000; ++i) text += "  - item" + std::to_string(i) + "\n";
  YamlLimits limits;
  limits.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto doc = loadYamlString(text, "loki /config", limits);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code, ErrorCode::kTimeout);
  EXPECT_NE(doc.error().message.find("past the poll's deadline"), std::string::npos);
}

TEST(BoundedYaml, ADuplicateKeyInsideAnAliasedMappingIsFoundOnce) {
  auto doc = loadYamlString("a: &a {x: 1, y: 2, x: 3}\nb: *a\n", "t.yml");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().message,
            "t.yml:1: field 'x': given twice in the same mapping (the first would win silently)");
}

}  // namespace
}  // namespace opsm
