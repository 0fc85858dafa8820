#include "scorer/model.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace opsm::scorer {
namespace {

TEST(ModelTest, ShippedModelHasTheStandardsStructure) {
  auto m = loadModel(std::string(OPSM_SOURCE_DIR) + "/rules/model.yaml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->domains.size(), 9u);
  EXPECT_EQ(m->items.size(), 35u);
  EXPECT_EQ(m->levels.size(), 5u);
  ASSERT_NE(m->findItem("6.9.9"), nullptr) << "系统画像 keeps its printed number";
  EXPECT_EQ(m->findItem("6.9.9")->zh, "系统画像");
  EXPECT_EQ(m->findItem("6.1.6")->en, "Alert governance");
  EXPECT_EQ(m->findDomain("6.7")->zh, "IT 连续性");
  const size_t per_domain[] = {6, 5, 4, 3, 3, 3, 4, 4, 3};
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(m->domains[i].items.size(), per_domain[i]);
}

TEST(ModelTest, ItemOutsideItsDomainIsRejected) {
  testing::TempDir dir;
  auto path = dir.write("model.yaml", R"(levels:
  - {level: 1, zh: a, en: a}
  - {level: 2, zh: a, en: a}
  - {level: 3, zh: a, en: a}
  - {level: 4, zh: a, en: a}
  - {level: 5, zh: a, en: a}
domains:
  - id: "6.1"
    zh: x
    en: x
    items:
      - {id: "6.2.1", zh: y, en: y}
)");
  auto m = loadModel(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find(path + ":12: field 'id'"), std::string::npos)
      << m.error().message;
}

}  // namespace
}  // namespace opsm::scorer
