// The collectors' one config validator (ConfigSchema::check) and the reader of checked values.
#include "collectors/config_schema.h"

#include <cstdlib>
#include <stdexcept>

#include <gtest/gtest.h>

#include "common/secrets.h"
#include "tests/support/temp_dir.h"

namespace opsm::collectors {
namespace {

ConfigSchema exampleSchema() {
  return ConfigSchema(
      "example",
      {
          urlKey("url", "The server.").isRequired(),
          stringKey("label", "A label.").defaults("system").nonEmpty(),
          stringKey("mode", "A mode.").defaults("fast").oneOf({"fast", "slow"}),
          integerKey("page_size", "Items per page.").defaults("100").range(1, 1000),
          numberKey("ratio", "A ratio.").range(0, 1),
          boolKey("check", "Check it.").defaults("true"),
          durationKey("window", "A window.").defaults("30d").isPositive(),
          stringListKey("fields", "Fields.").defaults("role, platform"),
          mapKey("systems", "Free-form map read by the factory."),
          mapKey("incidents", "A map of fixed keys.")
              .withFields({stringKey("jql", "Its query.").isRequired().nonEmpty(),
                           mapKey("targets", "Nested.").withFields(
                               {durationKey("detect", "Detect.").defaults("3m")})}),
          secretKey("token", "A token.").isRequired(),
          stringKey("a", "One way."),
          stringKey("b", "The other way."),
      },
      {{{"a", "b"}, true, "set exactly one of a or b"}});
}

Status check(const std::string& yaml) {
  return exampleSchema().check("agent.yml", YAML::Load(yaml));
}

// The entry every test starts from: valid, with only what is required and one of a and b.
constexpr const char* kValid = "{name: x, type: example, interval: 30s, url: http://s, token_env: X, a: 1";

std::string with(const std::string& more) { return std::string(kValid) + (more.empty() ? "" : ", " + more) + "}"; }

void expectError(const std::string& yaml, const std::string& text) {
  auto st = check(yaml);
  ASSERT_FALSE(st) << yaml << " was accepted";
  EXPECT_NE(st.error().message.find(text), std::string::npos)
      << yaml << ": " << st.error().message << " (expected: " << text << ")";
}

TEST(ConfigSchema, AcceptsAValidEntryAndTheCommonKeys) {
  auto st = check(with(""));
  EXPECT_TRUE(st) << st.error().message;
  st = check(with("label: app, mode: slow, page_size: 1000, ratio: 0.5, check: false, window: 1h, "
                  "fields: [a, b], systems: {x: y}, incidents: {jql: q, targets: {detect: 1m}}, "
                  "ttl: 5m, timeout: 5s, systems_from: [other]"));
  EXPECT_TRUE(st) << st.error().message;
}

TEST(ConfigSchema, NamesTheUnknownKeyAndListsTheAllowedOnes) {
  expectError(with("lable: x"),
              "agent.yml:1: field 'lable': unknown key for an example collector (allowed: name, "
              "type, interval, timeout, ttl, systems_from, max_systems, url, label, mode, page_size, ratio, "
              "check, window, fields, systems, incidents, token_file, token_env, a, b)");
  expectError(with("incidents: {jql: q, jq: r}"),
              "field 'incidents.jq': unknown key in incidents (allowed: jql, targets)");
  expectError(with("incidents: {jql: q, targets: {detected: 1m}}"),
              "field 'incidents.targets.detected': unknown key in incidents.targets (allowed: detect)");
}

TEST(ConfigSchema, ChecksEachTypeWithTheLineOfTheValue) {
  expectError(std::string(kValid) + ",\n page_size: many}", "agent.yml:2: field 'page_size': must be a number");
  expectError("{url: ftp://s, token_env: X, a: 1}", "field 'url': must be an http:// or https:// URL");
  expectError(with("label: [a]"), "field 'label': must be a string");
  expectError(with("label: ''"), "field 'label': must not be empty");
  expectError(with("mode: medium"), "field 'mode': must be one of fast, slow");
  expectError(with("page_size: 1.5"), "field 'page_size': must be a whole number");
  expectError(with("page_size: 0"), "field 'page_size': must be between 1 and 1000");
  expectError(with("ratio: 2"), "field 'ratio': must be between 0 and 1");
  expectError(with("ratio: .nan"), "field 'ratio': must be a number");
  expectError(with("check: maybe"), "field 'check': must be true or false");
  expectError(with("window: 30"), "field 'window':");
  expectError(with("window: 0s"), "field 'window': must be positive");
  expectError(with("fields: role"), "field 'fields': must be a list of strings");
  expectError(with("fields: [[a]]"), "field 'fields': must be a list of strings");
  expectError(with("systems: [a]"), "field 'systems': must be a mapping");
  expectError(with("incidents: {targets: {detect: soon}, jql: q}"), "field 'incidents.targets.detect':");
}

TEST(ConfigSchema, RequiredKeysSecretsAndConstraints) {
  EXPECT_TRUE(check("{url: http://s, token_env: X, a: 1}"));
  expectError("{token_env: X, a: 1}", "field 'url': is required");
  expectError("{url: http://s, a: 1}", "field 'token_file': set token_file or token_env");
  expectError("{url: http://s, token_env: X, token_file: /f, a: 1}",
              "field 'token_file': set either token_file or token_env, not both");
  expectError("{url: http://s, token_env: [X], a: 1}", "field 'token_env': must be an environment variable name");
  expectError(with("incidents: {targets: {}}"), "field 'incidents.jql': is required");
  expectError("{url: http://s, token_env: X}", "field 'a': set exactly one of a or b");
  expectError(with("b: 2"), "field 'a': set exactly one of a or b");
  // A key given but null counts as not given, as everywhere in the config.
  EXPECT_TRUE(check("{url: http://s, token_env: X, a: 1, b: }"));
}

// The reader answers the entry's values, or the schema's defaults when a key is not set.
TEST(ConfigReader, ReadsValuesAndTheSchemasDefaults) {
  const ConfigSchema schema = exampleSchema();
  const YAML::Node bare = YAML::Load(with(""));
  ASSERT_TRUE(schema.check("dir/agent.yml", bare));
  const ConfigReader d(schema, "x", "dir/agent.yml", bare);
  EXPECT_EQ(d.string("url"), "http://s");
  EXPECT_EQ(d.string("label"), "system");
  EXPECT_EQ(d.integer("page_size"), 100);
  EXPECT_TRUE(d.flag("check"));
  EXPECT_EQ(d.duration("window"), std::chrono::hours(24 * 30));
  EXPECT_EQ(d.strings("fields"), (std::vector<std::string>{"role", "platform"}));
  EXPECT_FALSE(d.node("systems").IsDefined());
  EXPECT_FALSE(d.has("incidents"));
  EXPECT_EQ(d.section("incidents").section("targets").duration("detect"), std::chrono::minutes(3));
  EXPECT_EQ(d.number("ratio"), 0);

  const YAML::Node set = YAML::Load(with("label: app, page_size: 7, check: false, window: 1h, "
                                         "fields: [serial], systems: {p: q}, "
                                         "incidents: {jql: q, targets: {detect: 1m}}"));
  ASSERT_TRUE(schema.check("dir/agent.yml", set));
  const ConfigReader r(schema, "x", "dir/agent.yml", set);
  EXPECT_EQ(r.string("label"), "app");
  EXPECT_EQ(r.integer("page_size"), 7);
  EXPECT_FALSE(r.flag("check"));
  EXPECT_EQ(r.duration("window"), std::chrono::hours(1));
  EXPECT_EQ(r.strings("fields"), (std::vector<std::string>{"serial"}));
  EXPECT_EQ(r.node("systems")["p"].Scalar(), "q");
  EXPECT_TRUE(r.has("incidents"));
  const ConfigReader inc = r.section("incidents");
  EXPECT_EQ(inc.string("jql"), "q");
  EXPECT_EQ(inc.section("targets").duration("detect"), std::chrono::minutes(1));
  EXPECT_NE(inc.error("jql", "bad").message.find("field 'incidents.jql': bad"), std::string::npos);
}

TEST(ConfigReader, ReadsSecretsFromFilesAndTheEnvironmentAndRegistersThem) {
  testing::TempDir dir;
  const std::string path = dir.write("token", "s3cr3t-from-file\n");
  const ConfigSchema schema = exampleSchema();
  const YAML::Node from_file = YAML::Load("{url: http://s, a: 1, token_file: " + path + "}");
  ASSERT_TRUE(schema.check("agent.yml", from_file));
  auto token = ConfigReader(schema, "x", "agent.yml", from_file).secret("token");
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(*token, "s3cr3t-from-file");
  EXPECT_EQ(redactSecrets("got s3cr3t-from-file"), "got REDACTED");

  ::setenv("OPSM_SCHEMA_TEST_TOKEN", "s3cr3t-from-env", 1);
  const YAML::Node from_env = YAML::Load("{url: http://s, a: 1, token_env: OPSM_SCHEMA_TEST_TOKEN}");
  auto env = ConfigReader(schema, "x", "agent.yml", from_env).secret("token");
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(*env, "s3cr3t-from-env");

  const YAML::Node missing = YAML::Load("{url: http://s, a: 1, token_file: " + path + ".none}");
  auto none = ConfigReader(schema, "x", "agent.yml", missing).secret("token");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("field 'token_file': cannot read secret file"), std::string::npos)
      << none.error().message;
}

// Reading a key the schema does not declare, or declares as another type, is a bug in the
// factory, not a config error: it throws, so every factory test finds it.
TEST(ConfigReader, AKeyTheSchemaDoesNotDeclareIsAProgrammingError) {
  const ConfigSchema schema = exampleSchema();
  const ConfigReader r(schema, "x", "agent.yml", YAML::Load(with("")));
  EXPECT_THROW(r.string("nope"), std::logic_error);
  EXPECT_THROW(r.has("nope"), std::logic_error);
  EXPECT_THROW(r.flag("label"), std::logic_error);
  EXPECT_THROW(r.section("systems").string("x"), std::logic_error);
}

// A schema whose own default breaks it, or that declares a key twice (or a common key), is
// refused when it is built: at registration, in every test that registers the collectors.
TEST(ConfigSchema, RefusesABrokenSchema) {
  EXPECT_THROW(ConfigSchema("t", {integerKey("n", "").defaults("5").range(10, 20)}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {stringKey("m", "").defaults("x").oneOf({"a", "b"})}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {durationKey("w", "").defaults("soon")}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {stringKey("k", ""), stringKey("k", "")}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {stringKey("interval", "")}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {secretKey("token", ""), stringKey("token_env", "")}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {stringKey("r", "").isRequired().defaults("x")}), std::logic_error);
  EXPECT_THROW(ConfigSchema("t", {stringKey("a", "")}, {{{"a", "zz"}, true, "m"}}), std::logic_error);
  EXPECT_NO_THROW(ConfigSchema("t", {stringKey("a", ""), stringKey("b", "")}, {{{"a", "b"}, true, "m"}}));
}

TEST(ConfigSchema, MarkdownListsEveryKeyWithItsTypeDefaultAndConstraints) {
  const std::string md = exampleSchema().markdown();
  for (const char* row :
       {"| `url` | URL | required | The server. |\n", "| `label` | string | `system` | A label. |\n",
        "| `mode` | fast \\| slow | `fast` | A mode. |\n",
        "| `page_size` | integer 1–1000 | `100` | Items per page. |\n",
        "| `incidents.targets.detect` | duration | `3m` | Detect. |\n",
        "| `token_file`, `token_env` | secret (file or environment variable) | required | A token. |\n",
        "\nExactly one of `a`, `b` is set.\n"}) {
    EXPECT_NE(md.find(row), std::string::npos) << "missing " << row << " in\n" << md;
  }
  EXPECT_EQ(md.rfind("## Configuration keys\n", 0), 0u);
}

}  // namespace
}  // namespace opsm::collectors
