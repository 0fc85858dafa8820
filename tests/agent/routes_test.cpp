#include "agent/exposition/routes.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace opsm::agent {
namespace {

// Every row of the table is reachable: its own method and path (each {} a segment) find it,
// and no earlier row shadows it.
TEST(Routes, EveryRouteIsFoundByItsOwnMethodAndPath) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const Route& r : routeTable()) {
    EXPECT_TRUE(seen.insert({r.method, r.pattern}).second) << r.method << " " << r.pattern << " twice";
    const std::string path = std::regex_replace(std::string(r.pattern), std::regex("\\{\\}"), "a%20b");
    Routed found = findRoute(HttpRequest{r.method, path, {}, ""});
    ASSERT_NE(found.route, nullptr) << r.method << " " << path;
    EXPECT_EQ(found.route, &r) << r.method << " " << path;
    for (const auto& p : found.params) EXPECT_EQ(p, "a b") << "parameters are percent-decoded";
    // Writes run on the scorer thread (after them, a scoring), and need a role.
    if (std::string_view(r.method) == "POST") {
      EXPECT_EQ(r.lane, Lane::kScorer) << r.pattern;
      EXPECT_GE(static_cast<int>(r.access), static_cast<int>(Access::kAttester)) << r.pattern;
    }
  }
  EXPECT_EQ(findRoute(HttpRequest{"HEAD", "/metrics", {}, ""}).route->pattern,
            std::string("/metrics"))
      << "HEAD is answered as GET";
}

TEST(Routes, AWrongMethodIs405NamingTheAllowedOnes) {
  Routed r = findRoute(HttpRequest{"DELETE", "/api/v1/attestations", {}, ""});
  ASSERT_EQ(r.route, nullptr);
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, 405u);
  EXPECT_EQ(r.refused->headers["Allow"], "GET, HEAD, POST");
  EXPECT_NE(r.refused->body.find("\"error\""), std::string::npos) << "the API answers in JSON";
  r = findRoute(HttpRequest{"GET", "/api/v1/attestations/3/approve", {}, ""});
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, 405u);
  EXPECT_EQ(r.refused->headers["Allow"], "POST");
  r = findRoute(HttpRequest{"POST", "/ui/reviews", {}, ""});
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, 405u);
  EXPECT_NE(r.refused->body.find("writes go through /api/v1"), std::string::npos);
}

TEST(Routes, AnUnknownPathIs404InTheLanguageOfItsPart) {
  Routed r = findRoute(HttpRequest{"GET", "/api/v1/nope", {}, ""});
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, 404u);
  EXPECT_NE(r.refused->body.find("no such API endpoint: /api/v1/nope"), std::string::npos);
  r = findRoute(HttpRequest{"GET", "/api/v1/systems/", {}, ""});
  ASSERT_TRUE(r.refused) << "an empty segment is no system";
  EXPECT_EQ(r.refused->status, 404u);
  r = findRoute(HttpRequest{"POST", "/api/v1/attestations/3/approve/again", {}, ""});
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, 404u);
  r = findRoute(HttpRequest{"GET", "/ui/nope", {}, ""});
  ASSERT_TRUE(r.refused);
  EXPECT_EQ(r.refused->status, 404u);
  EXPECT_EQ(r.refused->headers.count("Content-Security-Policy"), 1u) << r.refused->body;
}

}  // namespace
}  // namespace opsm::agent
