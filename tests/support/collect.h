#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "collectors/collector.h"
#include "common/yaml_util.h"

namespace opsm::testing {

// Facts of one poll by (system, key).
using FactMap = std::map<std::pair<std::string, std::string>, scorer::Value>;

// Builds a collector from a YAML entry through the registry of every built-in type.
inline Result<std::unique_ptr<collectors::Collector>> buildCollector(
    const std::string& yaml, const std::string& file = "agent.yml") {
  collectors::Registry registry;
  EXPECT_TRUE(collectors::registerAll(registry).ok());
  auto node = loadYamlString(yaml, file);
  if (!node) return node.error();
  const auto* factory = registry.find((*node)["type"].Scalar());
  if (!factory) return makeError(ErrorCode::kInvalidArgument, "no such type");
  std::string name = (*node)["name"] ? (*node)["name"].Scalar() : "c";
  return factory->create({name, file, *node});
}

// One poll with a deadline `budget` from now.
inline Result<FactMap> pollOnce(collectors::Collector& c,
                                std::chrono::milliseconds budget = std::chrono::seconds(10),
                                TimePoint now = Clock::now()) {
  collectors::CollectContext ctx;
  ctx.now = now;
  ctx.deadline = std::chrono::steady_clock::now() + budget;
  auto facts = c.collect(ctx);
  if (!facts) return facts.error();
  FactMap out;
  for (auto& f : *facts) out[{f.system, f.key}] = f.value;
  return out;
}

// One poll of a collector that reports a single system: its facts by key, each checked to be
// of `system`.
inline Result<std::map<std::string, scorer::Value>> pollSystem(collectors::Collector& c,
                                                               const std::string& system) {
  auto facts = pollOnce(c);
  if (!facts) return facts.error();
  std::map<std::string, scorer::Value> out;
  for (auto& [at, value] : *facts) {
    EXPECT_EQ(at.first, system) << at.second;
    out[at.second] = value;
  }
  return out;
}

}  // namespace opsm::testing
