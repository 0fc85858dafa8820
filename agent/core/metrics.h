#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "common/duration.h"
#include "scorer/scoring.h"

namespace opsm::agent {

// The agent's own /metrics. Every name is listed in docs/metrics.md. Series of systems,
// items or domains that are no longer scored are removed, never left behind.
class Metrics {
 public:
  explicit Metrics(const scorer::Model& model);

  void setShard(unsigned index, unsigned count);
  // Whether opsmaturity_item_criteria (4 series per item, about half of all) is exported.
  void setExportCriteriaStates(bool on) { export_criteria_states_ = on; }
  void setExportItemDimensions(bool on) { export_item_dimensions_ = on; }
  // Whether opsmaturity_item_progress and opsmaturity_item_level_change_timestamp_seconds are.
  void setExportItemProgress(bool on) { export_item_progress_ = on; }

  // Replaces every score series with `scores`.
  void setScores(const std::vector<scorer::SystemScore>& scores);
  // Replaces the score series of the systems in `scores` and removes those of the systems in
  // `removed`; every other system's series stay as they are (incremental scoring).
  void updateScores(const std::vector<const scorer::SystemScore*>& scores,
                    const std::vector<std::string>& removed);

  void collectorPolled(const std::string& collector, bool ok, double duration_seconds,
                       TimePoint finished, size_t facts, size_t systems = 0);
  void collectorDeclared(const std::string& collector);
  // A scoring took `seconds`, rescored `rescored` systems and left `systems` scored.
  void scored(double seconds, size_t systems, size_t rescored);
  // A write to the durable store failed (evidence, scores, regressions, attestations).
  void storeError();
  // An HTTP answer refused (reason: memory, reply_budget). Thread-safe.
  void httpRefused(const std::string& reason);
  // SQLite found the store damaged (opsmaturity_store_corrupt 1).
  void setStoreCorrupt(bool corrupt);

  // A regression of (system, item): counts it. A level change: its time. The item must be in
  // the last setScores() (items not scored have no series); others are ignored.
  void regressed(const std::string& system, const std::string& item);
  void levelChanged(const std::string& system, const std::string& item, TimePoint at);
  // A system's share of its collector evidence that is stale (expired, or its collector
  // down), and when each of its attestations expires, by criterion: replaces the system's.
  void setSystemGauges(const std::string& system, double stale_ratio,
                       const std::vector<std::pair<std::string, TimePoint>>& attestation_expiries);
  // Removes them (the system is no longer scored).
  void removeSystemGauges(const std::string& system);
  // The attestations and waivers: how many are in each (effective) state, the attestations
  // whose document changed or vanished (system, criterion, status), and when each waiver in
  // force expires (system, criterion).
  struct LedgerView {
    std::map<std::string, int> attestation_states, waiver_states;
    std::map<std::vector<std::string>, int> flagged_documents;  // {system, criterion, status}
    std::map<std::pair<std::string, std::string>, TimePoint> waiver_expiries;
  };
  void setLedger(const LedgerView& view);

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

 private:
  using Key = std::vector<std::string>;
  // A gauge family whose series are set wholesale: series absent from the new set go away.
  struct GaugeSet {
    prometheus::Family<prometheus::Gauge>* family = nullptr;
    std::vector<std::string> label_names;
    std::map<Key, prometheus::Gauge*> series;
    std::map<Key, prometheus::Gauge*> next;
    prometheus::Gauge* gauge(const Key& labels);  // the series of `labels`, made if new
    void set(const Key& labels, double value);
    void commit();  // removes series not set since the last commit
    // Replaces the series whose first label is `first` with `values` (no commit needed).
    void replaceFor(const std::string& first, const std::vector<std::pair<Key, double>>& values);
  };
  GaugeSet makeSet(const std::string& name, const std::string& help,
                   std::vector<std::string> label_names);

  std::shared_ptr<prometheus::Registry> registry_;
  const scorer::Model model_;  // a copy: a reload replaces the pack it came from
  GaugeSet stale_ratio_, attestation_expiry_, attestations_, waivers_, flagged_documents_,
      waiver_expiry_;

  // The score families (95 series per system by default, docs/metrics.md#cardinality) are kept
  // as plain rows and written straight
  // into the exposition: at 10,000 systems prometheus-cpp's families and their copies in
  // Collect() cost seconds per scrape.
  struct ItemRow {
    std::string domain, item;
    int level = 0;
    double progress = 0;
    int level_with_waivers = 0;
    int waived = 0;  // criteria waived: a level_with_waivers series only then
    int counts[4] = {0, 0, 0, 0};  // by CriterionState
    double regressions = 0;     // carried from row to row while the item is scored
    double level_change = -1;   // Unix time of the last level change; -1: none yet
    // Not applicable to the system: no level or progress series, a not_applicable one
    // with the profile facts that decided it.
    bool applicable = true;
    std::string not_applicable_because;
    std::array<double, scorer::kDimensions> dimension_progress{};
    std::array<int, scorer::kDimensions> dimension_criteria{};
  };
  struct DomainRow {
    std::string domain;
    double level = 0, progress = 0;
  };
  struct SystemRow {
    std::string system;
    double level = 0, progress = 0;
    double level_with_waivers = 0;
    std::array<double, scorer::kDimensions> dimension_progress{};
    std::vector<ItemRow> items;
    std::vector<DomainRow> domains;
  };
  void renderScores(std::string* out) const;
  SystemRow rowOf(const scorer::SystemScore& s) const;
  // Installs `rows` (sorted by system) in rows_, carrying the counters of their items over.
  void carryCounters(std::vector<SystemRow>& rows);  // rows_mu_ held
  // Opt-in, as in AgentConfig.
  bool export_criteria_states_ = false;
  bool export_item_dimensions_ = false;
  bool export_item_progress_ = false;
  mutable std::mutex rows_mu_;
  mutable size_t last_scores_size_ = 0;  // bytes of the last rendering, to reserve the next
  std::vector<SystemRow> rows_;
  ItemRow* findRow(const std::string& system, const std::string& item);  // rows_mu_ held
  prometheus::Family<prometheus::Gauge>* collector_up_;
  prometheus::Family<prometheus::Gauge>* collector_duration_;
  prometheus::Family<prometheus::Gauge>* collector_last_success_;
  prometheus::Family<prometheus::Gauge>* collector_facts_;
  prometheus::Family<prometheus::Gauge>* collector_systems_;
  prometheus::Family<prometheus::Counter>* collector_failures_;
  prometheus::Gauge* scoring_duration_ = nullptr;
  prometheus::Gauge* scoring_systems_ = nullptr;
  prometheus::Gauge* rescored_systems_ = nullptr;
  prometheus::Counter* scorings_ = nullptr;
  prometheus::Counter* store_errors_ = nullptr;
  prometheus::Gauge* store_corrupt_ = nullptr;
  prometheus::Family<prometheus::Counter>* http_refused_ = nullptr;
};

}  // namespace opsm::agent
