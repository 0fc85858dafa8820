// /metrics at estate scale: the agent's Metrics filled with the scores of N systems (every
// item of the shipped pack), then rendered in the Prometheus text format.
// Run: build/bench/metrics_bench (see bench/README.md).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "agent/core/metrics.h"
#include "bench/estate.h"
#include "scorer/scoring.h"

namespace {

using namespace opsm;

const scorer::RulePack& pack() { return bench::shippedPack(); }

std::vector<scorer::SystemScore> estate(int n) {
  std::vector<scorer::SystemScore> out;
  std::map<std::string, scorer::Evidence> none;
  scorer::ScoringConfig fast;
  fast.explain = false;
  auto base = scorer::scoreSystem("x", pack(), scorer::EvalContext{none, Clock::now()}, fast);
  for (int s = 0; s < n; ++s) {
    base.system = "system-" + std::to_string(s);
    out.push_back(base);
  }
  return out;
}

void BM_SetScores(benchmark::State& state) {
  auto scores = estate(static_cast<int>(state.range(0)));
  agent::Metrics metrics(pack().model);
  for (auto _ : state) metrics.setScores(scores);
  state.counters["systems"] = static_cast<double>(state.range(0));
}

void BM_Render(benchmark::State& state) {
  auto scores = estate(static_cast<int>(state.range(0)));
  agent::Metrics metrics(pack().model);
  metrics.setScores(scores);
  size_t bytes = 0, series = 0;
  for (auto _ : state) {
    std::string text = metrics.render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
    series = 0;
    for (char c : text) series += c == '\n';
  }
  state.counters["systems"] = static_cast<double>(state.range(0));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["lines"] = static_cast<double>(series);
}

BENCHMARK(BM_SetScores)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Render)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
