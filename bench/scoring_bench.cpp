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
#include "agent/exposition/metrics.h"
#include "agent/core/config.h"
#include "bench/estate.h"
#include "collectors/collector.h"
#include "scorer/catalog.h"
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

// The agent's full rescore (Agent::rescore(Scope::kAll): evidence snapshots, the fast path, stale ratios,
// the regression tracker, SQLite with `storage`, the metrics update) over the same estate.
// An agent on the shipped rules in a directory of its own, with a `file` collector named
// bench (never polled: the benchmark puts its evidence in the store) and `extra` collectors.
struct BenchAgent {
  std::filesystem::path dir;
  std::unique_ptr<agent::Agent> agent;
  BenchAgent(const char* name, bool storage, const std::string& extra = "") {
    collectors::Registry registry;
    if (!collectors::registerAll(registry)) std::abort();
    dir = std::filesystem::temp_directory_path() /
          (std::string(name) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "agent.yml")
        << "rules_dir: " << OPSM_SOURCE_DIR << "/rules\n"
        << (storage ? "storage_path: state.db\n" : "")
        << "collectors:\n  - {name: bench, type: file, path: facts.yaml}\n" << extra;
    auto config = agent::loadConfig((dir / "agent.yml").string(), registry);
    if (!config) std::abort();
    auto a = agent::Agent::create(std::move(*config));
    if (!a) std::abort();
    agent = std::move(*a);
  }
  ~BenchAgent() {
    agent.reset();
    std::filesystem::remove_all(dir);
  }
};

// Evidence of systems 0..n-1 as the bench collector's.
std::vector<scorer::Evidence> estateEvidence(int n, TimePoint now) {
  auto ks = keys();
  std::vector<scorer::Evidence> all;
  for (int s = 0; s < n; ++s) {
    for (auto& [_, e] : evidenceFor(s, ks, now)) {
      e.source.collector = "bench";
      all.push_back(std::move(e));
    }
  }
  return all;
}

void BM_AgentRescore(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  BenchAgent b("opsm-rescore-bench", state.range(1) != 0);
  b.agent->evidence().replaceFromCollector("bench", estateEvidence(n, Clock::now()));
  b.agent->rescore();  // the first scoring sets every baseline and writes every item's state
  for (auto _ : state) b.agent->rescore(agent::Agent::Scope::kAll);
  state.counters["systems"] = n;
}
// Args: systems; storage (1: with storage_path, as in production).
BENCHMARK(BM_AgentRescore)
    ->ArgsProduct({{100, 1000, 10000}, {0, 1}})
    ->ArgNames({"systems", "storage"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

// Incremental scoring: one system's evidence changes, then the agent scores (Agent::rescore,
// which scores only the systems that changed, updates /metrics and, with `storage`, SQLite).
// The time is that scoring's: from the end of the poll (its evidence stored) to the new value
// on /metrics. Source 0: the change comes from a source that reports that system alone;
// source 1: from a re-poll of the source that reports the whole estate with one value changed
// (storing that poll, which compares every system it reports, is timed apart: store_ms).
void BM_AgentRescoreOneChanged(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool whole_estate = state.range(2) != 0;
  const TimePoint now = Clock::now();
  BenchAgent b("opsm-incremental-bench", state.range(1) != 0,
               "  - {name: one, type: file, path: one.yaml}\n");
  auto all = estateEvidence(n, now);
  // The piece that changes: the first boolean key of the system in the middle of the estate.
  const std::string changed = "system-" + std::to_string(n / 2);
  size_t flip = all.size();
  for (size_t k = 0; k < all.size(); ++k) {
    if (all[k].system == changed && all[k].value.isBool() &&
        !scorer::isAttestationKey(all[k].key)) {
      flip = k;
      break;
    }
  }
  if (flip == all.size()) std::abort();
  b.agent->evidence().replaceFromCollector("bench", all, now);
  b.agent->rescore();  // the first scoring scores everything
  double store_seconds = 0, rescored = 0;
  for (auto _ : state) {
    state.PauseTiming();
    all[flip].value = !all[flip].value.asBool();
    const auto stored = std::chrono::steady_clock::now();
    if (whole_estate) {
      b.agent->evidence().replaceFromCollector("bench", all, now);
    } else {
      scorer::Evidence e = all[flip];
      e.source.collector = "one";
      b.agent->evidence().replaceFromCollector("one", {e}, now);
    }
    store_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - stored).count();
    state.ResumeTiming();
    b.agent->rescore();
    state.PauseTiming();
    const std::string metrics = renderMetrics(*b.agent);
    const auto at = metrics.find("\nopsmaturity_rescored_systems ");
    rescored = std::max(rescored, at == std::string::npos ? -1 : std::stod(metrics.substr(at + 30)));
    state.ResumeTiming();
  }
  state.counters["rescored"] = rescored;  // the most of any iteration
  state.counters["systems"] = n;
  state.counters["store_ms"] = 1000 * store_seconds / static_cast<double>(state.iterations());
}
// Args: systems; storage (1: with storage_path); source (0: one system's; 1: the estate's).
BENCHMARK(BM_AgentRescoreOneChanged)
    ->ArgsProduct({{1000, 10000}, {0, 1}, {0, 1}})
    ->ArgNames({"systems", "storage", "source"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
