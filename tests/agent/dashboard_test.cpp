// The shipped Grafana dashboard and alerting rules only query metrics the agent exports and
// docs/metrics.md documents; every metric the agent exports is documented.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "collectors/common/json.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

// The file's content; a file that cannot be read fails the test (an empty text would make
// every "uses only documented metrics" check pass).
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  if (!in.is_open() || s.str().empty()) ADD_FAILURE() << "cannot read " << path;
  return s.str();
}

std::set<std::string> metricNames(const std::string& text) {
  static const std::regex kName(R"(opsmaturity_[a-z_]+)");
  std::set<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), kName), end; it != end; ++it) {
    out.insert(it->str());
  }
  return out;
}

std::set<std::string> documented() {
  std::set<std::string> out;
  std::string doc = slurp(std::string(OPSM_SOURCE_DIR) + "/docs/metrics.md");
  static const std::regex kRow(R"(\n\| `(opsmaturity_[a-z_]+)` \|)");
  for (std::sregex_iterator it(doc.begin(), doc.end(), kRow), end; it != end; ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

void queries(const rapidjson::Value& v, std::vector<std::string>* out) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string name = m.name.GetString();
      if ((name == "expr" || name == "definition") && m.value.IsString()) {
        out->push_back(m.value.GetString());
      }
      queries(m.value, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) queries(e, out);
  }
}

TEST(Dashboard, QueriesUseOnlyDocumentedMetrics) {
  auto doc = collectors::parseJson(
      slurp(std::string(OPSM_SOURCE_DIR) + "/config/grafana/opsmaturity.json"), "dashboard");
  ASSERT_TRUE(doc) << doc.error().message;
  std::vector<std::string> exprs;
  queries(*doc, &exprs);
  ASSERT_GE(exprs.size(), 10u);
  auto known = documented();
  ASSERT_GE(known.size(), 15u);
  std::set<std::string> used;
  for (const auto& e : exprs) {
    for (const auto& name : metricNames(e)) {
      EXPECT_TRUE(known.count(name)) << name << " in " << e << " is not in docs/metrics.md";
      used.insert(name);
    }
  }
  // What the dashboard is for: levels by domain and item, the heat map, collector health.
  for (const char* must : {"opsmaturity_domain_level", "opsmaturity_item_level",
                           "opsmaturity_collector_up", "opsmaturity_system_level"}) {
    EXPECT_TRUE(used.count(must)) << must;
  }
  const auto* tmpl = collectors::objectMember(*doc, "templating");
  ASSERT_NE(tmpl, nullptr);
  EXPECT_NE(slurp(std::string(OPSM_SOURCE_DIR) + "/config/grafana/opsmaturity.json")
                .find("label_values(opsmaturity_system_level, system)"),
            std::string::npos)
      << "a system selector";
}

TEST(Dashboard, AlertRulesUseOnlyDocumentedMetrics) {
  auto known = documented();
  const auto used = metricNames(
      slurp(std::string(OPSM_SOURCE_DIR) + "/config/prometheus/opsmaturity-alerts.yml"));
  for (const auto& name : used) EXPECT_TRUE(known.count(name)) << name;
  // What the alerts are for: regressions, collectors down, stale evidence, waivers.
  for (const char* must : {"opsmaturity_item_regressions_total", "opsmaturity_collector_up",
                           "opsmaturity_evidence_stale_ratio",
                           "opsmaturity_waiver_expiry_timestamp_seconds"}) {
    EXPECT_TRUE(used.count(must)) << must;
  }
}

TEST(Dashboard, EveryExportedMetricIsDocumented) {
  collectors::Registry registry;
  ASSERT_TRUE(collectors::registerAll(registry).ok());
  testing::TempDir dir;
  dir.write("attestations.yaml",
            "attestations:\n  - system: payments\n    criterion: 6.7.4/L1/2\n"
            "    attested_by: Li Wei\n    document: https://wiki.example.com/x\n"
            "    date: " + formatTime(Clock::now() - std::chrono::hours(24)) + "\n    met: true\n");
  dir.write("facts.yaml", "facts: [{system: payments, key: file.x.y, value: 1}]\n");
  auto config = loadConfig(dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                      "/rules\nattestations_file: attestations.yaml\n"
                                                      "collectors: [{type: file, path: facts.yaml}]\n"),
                           registry);
  ASSERT_TRUE(config) << config.error().message;
  auto a = Agent::create(std::move(*config));
  ASSERT_TRUE(a);
  (*a)->pollAll();
  (*a)->rescore();
  std::string text = renderMetrics(**a);
  static const std::regex kType(R"(# TYPE (opsmaturity_[a-z_]+) )");
  auto known = documented();
  int exported = 0;
  for (std::sregex_iterator it(text.begin(), text.end(), kType), end; it != end; ++it) {
    ++exported;
    EXPECT_TRUE(known.count((*it)[1].str())) << (*it)[1].str() << " is not in docs/metrics.md";
  }
  EXPECT_GE(exported, 15);
}

// The number of series one system costs by default is the one docs/metrics.md states (and
// at most 100), and each opt-in adds what it says.
TEST(Dashboard, SeriesPerSystemAreAsDocumented) {
  const std::string doc = slurp(std::string(OPSM_SOURCE_DIR) + "/docs/metrics.md");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(doc, m, std::regex(R"(\*\*(\d+) series per system\*\* by default)")))
      << "docs/metrics.md states no figure";
  const int documented_figure = std::stoi(m[1].str());
  EXPECT_LE(documented_figure, 100);
  auto series = [](const std::string& extra, std::map<std::string, int>* by_family) {
    collectors::Registry registry;
    EXPECT_TRUE(collectors::registerAll(registry).ok());
    testing::TempDir dir;
    dir.write("facts.yaml", "facts: [{system: payments, key: file.x.y, value: 1}]\n");
    auto config = loadConfig(dir.write("agent.yml", "rules_dir: " + std::string(OPSM_SOURCE_DIR) +
                                                        "/rules\n" + extra +
                                                        "collectors: [{type: file, path: facts.yaml}]\n"),
                             registry);
    EXPECT_TRUE(config) << config.error().message;
    if (!config) return -1;
    auto a = Agent::create(std::move(*config));
    EXPECT_TRUE(a);
    if (!a) return -1;
    (*a)->pollAll();
    (*a)->rescore();
    std::istringstream text(renderMetrics(**a));
    int n = 0;
    for (std::string line; std::getline(text, line);) {
      if (line.empty() || line[0] == '#' || line.find("system=\"payments\"") == std::string::npos) {
        continue;
      }
      ++n;
      if (by_family) ++(*by_family)[line.substr(0, line.find('{'))];
    }
    return n;
  };
  std::map<std::string, int> families;
  const int by_default = series("", &families);
  std::string detail;
  for (const auto& [name, n] : families) detail += std::to_string(n) + " " + name + "\n";
  EXPECT_EQ(by_default, documented_figure) << detail;
  // The opt-ins: 4 per item by state, up to 3 per item by dimension, progress per item.
  EXPECT_EQ(series("export_criteria_states: true\n", nullptr), by_default + 4 * 35);
  EXPECT_GT(series("export_item_dimensions: true\n", nullptr), by_default + 35);
  EXPECT_EQ(series("export_item_progress: true\n", nullptr), by_default + 35);
}

}  // namespace
}  // namespace opsm::agent
