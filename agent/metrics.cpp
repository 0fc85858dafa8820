#include "agent/metrics.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace opsm::agent {

#ifndef OPSM_VERSION
#define OPSM_VERSION "0.0.0"
#endif
#ifndef OPSM_REVISION
#define OPSM_REVISION "unknown"
#endif

void Metrics::GaugeSet::set(const Key& labels, double value) {
  auto it = series.find(labels);
  prometheus::Gauge* g = nullptr;
  if (it != series.end()) {
    g = it->second;
  } else {
    std::map<std::string, std::string> l;
    for (size_t i = 0; i < label_names.size(); ++i) l[label_names[i]] = labels[i];
    g = &family->Add(l);
  }
  g->Set(value);
  next[labels] = g;
}

void Metrics::GaugeSet::commit() {
  for (auto& [labels, g] : series) {
    if (!next.count(labels)) family->Remove(g);
  }
  series = std::move(next);
  next.clear();
}

Metrics::GaugeSet Metrics::makeSet(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  GaugeSet s;
  s.family = &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  s.label_names = std::move(label_names);
  return s;
}

Metrics::Metrics(const scorer::Model& model)
    : registry_(std::make_shared<prometheus::Registry>()), model_(model) {
  item_level_ = makeSet("opsmaturity_item_level",
                        "Maturity level (0-5) of a capability item for a system.",
                        {"system", "domain", "item"});
  item_progress_ = makeSet("opsmaturity_item_progress",
                           "Level plus the share of the next level's criteria passed (0-5).",
                           {"system", "domain", "item"});
  item_criteria_ = makeSet("opsmaturity_item_criteria",
                           "Criteria of an item by evaluation state, over all levels.",
                           {"system", "item", "state"});
  domain_level_ = makeSet("opsmaturity_domain_level",
                          "Maturity level of a capability domain for a system (aggregate of "
                          "its scored items, min by default).",
                          {"system", "domain"});
  domain_progress_ = makeSet("opsmaturity_domain_progress",
                             "Mean progress of a domain's scored items.", {"system", "domain"});
  system_level_ = makeSet("opsmaturity_system_level",
                          "Maturity level of a system (aggregate of its domains, min by default).",
                          {"system"});
  system_progress_ = makeSet("opsmaturity_system_progress",
                             "Mean progress of a system's scored domains.", {"system"});
  stale_ratio_ = makeSet("opsmaturity_evidence_stale_ratio",
                         "Share (0-1) of a system's collector evidence that is stale: expired, "
                         "or from a collector whose last poll failed.",
                         {"system"});
  attestation_expiry_ = makeSet("opsmaturity_attestation_expiry_timestamp_seconds",
                                "Unix time at which the attestation of a criterion for a system "
                                "expires (it then counts as unknown).",
                                {"system", "criterion"});
  regressions_ = &prometheus::BuildCounter()
                      .Name("opsmaturity_item_regressions_total")
                      .Help("Level drops of an item where a criterion went from pass to fail "
                            "(not drops from evidence going unknown).")
                      .Register(*registry_);
  level_change_ = &prometheus::BuildGauge()
                       .Name("opsmaturity_item_level_change_timestamp_seconds")
                       .Help("Unix time of the last change of an item's level (up or down) "
                             "since the agent started.")
                       .Register(*registry_);
  collector_up_ = &prometheus::BuildGauge()
                       .Name("opsmaturity_collector_up")
                       .Help("1 if the collector's last poll succeeded, 0 if it failed.")
                       .Register(*registry_);
  collector_duration_ = &prometheus::BuildGauge()
                             .Name("opsmaturity_collector_duration_seconds")
                             .Help("How long the collector's last poll took.")
                             .Register(*registry_);
  collector_last_success_ = &prometheus::BuildGauge()
                                 .Name("opsmaturity_collector_last_success_timestamp_seconds")
                                 .Help("Unix time of the collector's last successful poll.")
                                 .Register(*registry_);
  collector_facts_ = &prometheus::BuildGauge()
                          .Name("opsmaturity_collector_facts")
                          .Help("Facts the collector's last successful poll produced.")
                          .Register(*registry_);
  collector_failures_ = &prometheus::BuildCounter()
                             .Name("opsmaturity_collector_failures_total")
                             .Help("Polls of the collector that failed.")
                             .Register(*registry_);
  auto& build = prometheus::BuildGauge()
                    .Name("opsmaturity_build_info")
                    .Help("Build information; the value is always 1.")
                    .Register(*registry_);
  build.Add({{"version", OPSM_VERSION}, {"revision", OPSM_REVISION}}).Set(1);
  auto& info = prometheus::BuildGauge()
                   .Name("opsmaturity_item_info")
                   .Help("Names of a capability item of the standard; the value is always 1.")
                   .Register(*registry_);
  for (const auto& item : model_.items) {
    const auto* domain = model_.findDomain(item.domain);
    info.Add({{"item", item.id},
              {"domain", item.domain},
              {"name_zh", item.zh},
              {"name_en", item.en},
              {"domain_zh", domain ? domain->zh : ""},
              {"domain_en", domain ? domain->en : ""}})
        .Set(1);
  }
}

void Metrics::setShard(unsigned index, unsigned count) {
  prometheus::BuildGauge()
      .Name("opsmaturity_shard_info")
      .Help("The shard of systems this agent scores (systems whose FNV-1a hash mod count is "
            "index); the value is always 1.")
      .Register(*registry_)
      .Add({{"index", std::to_string(index)}, {"count", std::to_string(count)}})
      .Set(1);
}

void Metrics::regressed(const std::string& system, const std::string& item) {
  regressions_->Add({{"system", system}, {"item", item}}).Increment();
}

void Metrics::levelChanged(const std::string& system, const std::string& item, TimePoint at) {
  level_change_->Add({{"system", system}, {"item", item}}).Set(toSeconds(at));
}

void Metrics::setAttestationExpiries(
    const std::map<std::pair<std::string, std::string>, TimePoint>& expiries) {
  for (const auto& [k, at] : expiries) attestation_expiry_.set({k.first, k.second}, toSeconds(at));
  attestation_expiry_.commit();
}

void Metrics::setStaleRatios(const std::map<std::string, double>& ratios) {
  for (const auto& [system, r] : ratios) stale_ratio_.set({system}, r);
  stale_ratio_.commit();
}

void Metrics::collectorDeclared(const std::string& collector) {
  collector_up_->Add({{"collector", collector}});
  collector_failures_->Add({{"collector", collector}});
}

void Metrics::collectorPolled(const std::string& collector, bool ok, double duration_seconds,
                              TimePoint finished, size_t facts) {
  prometheus::Labels l{{"collector", collector}};
  collector_up_->Add(l).Set(ok ? 1 : 0);
  collector_duration_->Add(l).Set(duration_seconds);
  if (ok) {
    collector_last_success_->Add(l).Set(toSeconds(finished));
    collector_facts_->Add(l).Set(static_cast<double>(facts));
  } else {
    collector_failures_->Add(l).Increment();
  }
}

void Metrics::setScores(const std::vector<scorer::SystemScore>& scores) {
  std::map<Key, prometheus::Counter*> next_regressions;
  for (const auto& s : scores) {
    for (const auto& item : s.items) {
      item_level_.set({s.system, item.domain, item.item}, item.level);
      next_regressions[{s.system, item.item}] =
          &regressions_->Add({{"system", s.system}, {"item", item.item}});
      item_progress_.set({s.system, item.domain, item.item}, item.progress);
      int counts[4] = {0, 0, 0, 0};
      for (const auto& c : item.criteria) ++counts[static_cast<int>(c.state)];
      for (int st = 0; st < 4; ++st) {
        item_criteria_.set(
            {s.system, item.item,
             scorer::criterionStateName(static_cast<scorer::CriterionState>(st))},
            counts[st]);
      }
    }
    for (const auto& d : s.domains) {
      domain_level_.set({s.system, d.domain}, d.level);
      domain_progress_.set({s.system, d.domain}, d.progress);
    }
    system_level_.set({s.system}, s.level);
    system_progress_.set({s.system}, s.progress);
  }
  for (auto* set : {&item_level_, &item_progress_, &item_criteria_, &domain_level_,
                    &domain_progress_, &system_level_, &system_progress_}) {
    set->commit();
  }
  for (auto& [key, counter] : regression_series_) {
    if (!next_regressions.count(key)) regressions_->Remove(counter);
  }
  regression_series_ = std::move(next_regressions);
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace opsm::agent
