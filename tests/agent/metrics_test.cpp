#include "agent/core/metrics.h"

#include <gtest/gtest.h>

namespace opsm::agent {
namespace {

scorer::SystemScore system(const std::string& name, int level) {
  scorer::SystemScore s;
  s.system = name;
  s.level = level;
  s.progress = level + 0.5;
  scorer::ItemScore item;
  item.item = "6.1.3";
  item.domain = "6.1";
  item.level = level;
  item.progress = level + 0.5;
  s.items.push_back(item);
  s.domains.push_back(scorer::DomainScore{"6.1", static_cast<double>(level), level + 0.5, 1});
  return s;
}

TEST(MetricsTest, ScoresAreExportedAndVanishedSystemsRemoved) {
  auto model = scorer::loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  ASSERT_TRUE(model.ok());
  Metrics m(*model);
  m.setExportItemProgress(true);
  m.setScores({system("payments", 2), system("billing", 1)});
  std::string text = m.render();
  EXPECT_NE(text.find("opsmaturity_item_level{domain=\"6.1\",item=\"6.1.3\",system=\"payments\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("opsmaturity_item_progress{domain=\"6.1\",item=\"6.1.3\",system=\"billing\"} 1.5"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_domain_level{domain=\"6.1\",system=\"billing\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_system_level{system=\"payments\"} 2"), std::string::npos);
  EXPECT_NE(text.find("# TYPE opsmaturity_item_level gauge"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_item_info{domain=\"6.9\",domain_en=\"Operational quality and "
                      "efficiency\",domain_zh=\"运行质效\",item=\"6.9.9\",name_en=\"System "
                      "profile\",name_zh=\"系统画像\"} 1"),
            std::string::npos)
      << text;

  m.setScores({system("payments", 3)});
  text = m.render();
  EXPECT_EQ(text.find("system=\"billing\""), std::string::npos) << "billing series are removed";
  EXPECT_NE(text.find("opsmaturity_system_level{system=\"payments\"} 3"), std::string::npos);
}

TEST(MetricsTest, CollectorSeries) {
  auto model = scorer::loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  ASSERT_TRUE(model.ok());
  Metrics m(*model);
  m.collectorDeclared("prom");
  std::string text = m.render();
  EXPECT_NE(text.find("opsmaturity_collector_up{collector=\"prom\"} 0"), std::string::npos)
      << "a collector not yet polled is not up";
  m.collectorPolled("prom", true, 0.25, TimePoint(std::chrono::seconds(1800000000)), 42);
  m.collectorPolled("prom", false, 5.0, TimePoint(std::chrono::seconds(1800000060)), 0);
  text = m.render();
  EXPECT_NE(text.find("opsmaturity_collector_up{collector=\"prom\"} 0"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_collector_duration_seconds{collector=\"prom\"} 5"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_collector_last_success_timestamp_seconds{collector=\"prom\"} "
                      "1800000000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("opsmaturity_collector_failures_total{collector=\"prom\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("opsmaturity_collector_facts{collector=\"prom\"} 42"), std::string::npos);
  EXPECT_NE(text.find("opsmaturity_build_info{revision="), std::string::npos);
}

}  // namespace
}  // namespace opsm::agent
