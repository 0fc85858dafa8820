// Rule evaluation at estate scale: the full shipped rule pack scored for N systems on one core,
// and the memory held per criterion-system pair. Run: build/bench/scoring_bench
// (see bench/README.md for the figures and how they were measured).
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "agent/core/agent.h"
#include "agent/core/config.h"
#include "bench/estate.h"
#include "collectors/collector.h"
#include "scorer/check.h"
#include "scorer/keys.h"
#include "scorer/scoring.h"

namespace {

using namespace opsm;

const scorer::RulePack& pack() { return bench::shippedPack(); }

std::vector<std::pair<std::string, scorer::ValueType>> keys() {
  auto out = bench::packKeys(pack());
  return {out.begin(), out.end()};
}

// Evidence of one system: every key, values varying with the system so that criteria pass,
// fail or stay unknown in realistic proportions; attestations for half the criteria.
std::map<std::string, scorer::Evidence> evidenceFor(
    int s, const std::vector<std::pair<std::string, scorer::ValueType>>& ks, TimePoint now) {
  std::map<std::string, scorer::Evidence> ev;
  int i = 0;
  for (const auto& [key, type] : ks) {
    ++i;
    if ((s + i) % 7 == 0) continue;  // some evidence missing: unknown
    scorer::Evidence e;
    e.key = key;
    e.system = "system-" + std::to_string(s);
    switch (type) {
      case scorer::ValueType::kBool: e.value = (s + i) % 3 != 0; break;
      case scorer::ValueType::kNumber: e.value = static_cast<double>((s * 31 + i * 17) % 100) / 10; break;
      case scorer::ValueType::kString: e.value = std::string((s + i) % 2 ? "master" : "ready"); break;
      case scorer::ValueType::kList:
        e.value = scorer::StringList{"logs", "node", "tracing", "http", "email", "pagerduty"};
        break;
    }
    e.observed_at = now - std::chrono::minutes(1);
    e.expires_at = now + std::chrono::hours(1);
    e.source = scorer::Source{"bench", "synthetic"};
    ev.emplace(key, std::move(e));
  }
  int j = 0;
  for (const auto& item : pack().items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        if (!c.attestation || (s + ++j) % 2) continue;
        scorer::Evidence e;
        e.key = "attestation." + c.id;
        e.system = "system-" + std::to_string(s);
        e.value = true;
        e.observed_at = now - std::chrono::hours(24);
        e.expires_at = now + std::chrono::hours(24 * 300);
        ev.emplace(e.key, std::move(e));
      }
    }
  }
  return ev;
}

size_t criteriaCount() {
  size_t n = 0;
  for (const auto& item : pack().items) {
    for (const auto& level : item.levels) n += level.criteria.size();
  }
  return n;
}

long rssBytes() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

void BM_ScoreEstate(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const TimePoint now = Clock::now();
  auto ks = keys();
  long before = rssBytes();
  std::vector<std::map<std::string, scorer::Evidence>> estate;
  estate.reserve(n);
  for (int s = 0; s < n; ++s) estate.push_back(evidenceFor(s, ks, now));
  // As a store keeps it: each system's evidence indexed by interned key id, built at load.
  const bool indexed = state.range(2) != 0;
  std::vector<scorer::EvidenceIndex> index(indexed ? n : 0);
  for (int s = 0; indexed && s < n; ++s) scorer::buildIndex(estate[s], &index[s]);
  std::vector<scorer::SystemScore> scores(n);
  scorer::ScoringConfig config;
  config.explain = state.range(1) != 0;
  const std::vector<std::string> names = [&] {
    std::vector<std::string> v;
    for (int s = 0; s < n; ++s) v.push_back("system-" + std::to_string(s));
    return v;
  }();
  for (auto _ : state) {
    for (int s = 0; s < n; ++s) {
      scorer::EvalContext ctx{estate[s], now, indexed ? &index[s] : nullptr};
      scores[s] = scorer::scoreSystem(names[s], pack(), ctx, config);
    }
    benchmark::ClobberMemory();
  }
  long held = rssBytes() - before;
  size_t pairs = criteriaCount() * static_cast<size_t>(n);
  state.counters["systems"] = n;
  state.counters["criteria_per_system"] = static_cast<double>(criteriaCount());
  state.counters["bytes_per_pair"] = static_cast<double>(held) / static_cast<double>(pairs);
  state.counters["systems_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
}
// Args: systems; explain (1: a reason string for every criterion, as the agent keeps them);
// indexed (1: evidence looked up by interned key id, 0: by key string in a map).
BENCHMARK(BM_ScoreEstate)
    ->ArgsProduct({{100, 1000, 10000}, {0, 1}, {0, 1}})
    ->ArgNames({"systems", "explain", "indexed"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10);  // steady state: the first scoring also pays for fresh pages

// The agent's whole rescore (Agent::rescore: evidence snapshots, the fast path, stale ratios,
// the regression tracker, SQLite with `storage`, the metrics update) over the same estate.
void BM_AgentRescore(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const TimePoint now = Clock::now();
  auto ks = keys();
  collectors::Registry registry;
  if (!collectors::registerAll(registry)) std::abort();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("opsm-rescore-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "agent.yml")
      << "rules_dir: " << OPSM_SOURCE_DIR << "/rules\n"
      << (state.range(1) ? "storage_path: state.db\n" : "")
      << "collectors:\n  - {name: bench, type: file, path: facts.yaml}\n";
  auto config = agent::loadConfig((dir / "agent.yml").string(), registry);
  if (!config) std::abort();
  auto a = agent::Agent::create(std::move(*config));
  if (!a) std::abort();
  std::vector<scorer::Evidence> all;
  for (int s = 0; s < n; ++s) {
    for (auto& [_, e] : evidenceFor(s, ks, now)) {
      e.source.collector = "bench";
      all.push_back(std::move(e));
    }
  }
  (*a)->evidence().replaceFromCollector("bench", std::move(all));
  (*a)->rescore();  // the first scoring sets every baseline and writes every item's state
  for (auto _ : state) (*a)->rescore();
  state.counters["systems"] = n;
  a->reset();
  std::filesystem::remove_all(dir);
}
// Args: systems; storage (1: with storage_path, as in production).
BENCHMARK(BM_AgentRescore)
    ->ArgsProduct({{100, 1000, 10000}, {0, 1}})
    ->ArgNames({"systems", "storage"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
