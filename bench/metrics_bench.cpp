// /metrics at estate scale: a snapshot of N scored systems (every item of the shipped pack),
// rendered in the Prometheus text format, and the snapshot's publication after a scoring of
// one system (a copy of the estate's pointers with one replaced).
// Run: build/bench/metrics_bench (see bench/README.md).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "agent/exposition/metrics.h"
#include "bench/estate.h"
#include "scorer/scoring.h"

namespace {

using namespace opsm;

const scorer::RulePack& pack() { return bench::shippedPack(); }

agent::Snapshot estate(int n) {
  std::map<std::string, scorer::Evidence> none;
  scorer::ScoringConfig fast;
  fast.explain = false;
  auto base = scorer::scoreSystem("x", pack(), scorer::EvalContext{none, Clock::now()}, fast);
  agent::Snapshot snap;
  snap.pack = std::shared_ptr<const scorer::RulePack>(&pack(), [](const scorer::RulePack*) {});
  snap.ledger = std::make_shared<const agent::LedgerView>();
  snap.regressions = std::make_shared<const std::vector<scorer::RegressionEvent>>();
  for (int s = 0; s < n; ++s) {
    auto view = std::make_shared<agent::SystemView>();
    static_cast<scorer::SystemScore&>(*view) = base;
    view->system = "system-" + std::to_string(s);
    view->records.resize(view->items.size());
    snap.scores.push_back(std::move(view));
  }
  return snap;
}

// What a scoring of one system costs to publish: the estate's views shared, one new.
void BM_PublishOne(benchmark::State& state) {
  const agent::Snapshot before = estate(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto next = std::make_shared<agent::Snapshot>();
    next->scores = before.scores;
    auto view = std::make_shared<agent::SystemView>(*before.scores[before.scores.size() / 2]);
    next->scores[before.scores.size() / 2] = std::move(view);
    benchmark::DoNotOptimize(next);
  }
  state.counters["systems"] = static_cast<double>(state.range(0));
}

void BM_Render(benchmark::State& state) {
  const agent::Snapshot snap = estate(static_cast<int>(state.range(0)));
  size_t bytes = 0, series = 0;
  for (auto _ : state) {
    std::string text = agent::renderMetrics(snap, agent::MetricsContext{});
    benchmark::DoNotOptimize(text);
    if (!bytes) {  // counted once, outside what a scrape costs
      state.PauseTiming();
      bytes = text.size();
      for (char c : text) series += c == '\n';
      state.ResumeTiming();
    }
  }
  state.counters["systems"] = static_cast<double>(state.range(0));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["lines"] = static_cast<double>(series);
}

BENCHMARK(BM_PublishOne)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Render)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
