#pragma once

#include <cstdint>
#include <string>

#include "agent/core/agent.h"
#include "agent/core/snapshot.h"

namespace opsm::agent {

// What /metrics shows besides a snapshot: the config's choices and the process's own counters,
// read live (they are about the agent, not about the assessment).
struct MetricsContext {
  unsigned shard_index = 0, shard_count = 1;
  bool export_criteria_states = false;
  bool export_item_dimensions = false;
  bool export_item_progress = false;
  uint64_t refused_memory = 0, refused_reply_budget = 0;  // opsmaturity_http_refused_total
  bool store_corrupt = false;
};
MetricsContext metricsContext(const Agent& agent);

// /metrics: the Prometheus text exposition format 0.0.4 of one snapshot, family by family from
// one table (metrics.cpp, kFamilies; every name is listed in docs/metrics.md). A series exists
// only for what the snapshot holds: systems or items no longer scored have none.
std::string renderMetrics(const Snapshot& snapshot, const MetricsContext& context);
// Of the agent's current snapshot.
std::string renderMetrics(const Agent& agent);

}  // namespace opsm::agent
