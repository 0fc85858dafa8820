#include "agent/core/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace opsm::agent {

#ifndef OPSM_VERSION
#define OPSM_VERSION "0.0.0"
#endif
#ifndef OPSM_REVISION
#define OPSM_REVISION "unknown"
#endif

prometheus::Gauge* Metrics::GaugeSet::gauge(const Key& labels) {
  if (auto it = series.find(labels); it != series.end()) return it->second;
  std::map<std::string, std::string> l;
  for (size_t i = 0; i < label_names.size(); ++i) l[label_names[i]] = labels[i];
  return &family->Add(l);
}

void Metrics::GaugeSet::set(const Key& labels, double value) {
  prometheus::Gauge* g = gauge(labels);
  g->Set(value);
  next[labels] = g;
}

void Metrics::GaugeSet::replaceFor(const std::string& first,
                                   const std::vector<std::pair<Key, double>>& values) {
  // The series of `first` are adjacent: keys compare by their first label first.
  auto it = series.lower_bound(Key{first});
  while (it != series.end() && !it->first.empty() && it->first.front() == first) {
    const bool kept = std::any_of(values.begin(), values.end(),
                                  [&](const auto& v) { return v.first == it->first; });
    if (kept) {
      ++it;
    } else {
      family->Remove(it->second);
      it = series.erase(it);
    }
  }
  for (const auto& [labels, value] : values) {
    prometheus::Gauge* g = gauge(labels);
    g->Set(value);
    series[labels] = g;
  }
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
  stale_ratio_ = makeSet("opsmaturity_evidence_stale_ratio",
                         "Share (0-1) of a system's collector evidence that is stale: expired, "
                         "or from a collector whose last poll failed.",
                         {"system"});
  attestation_expiry_ = makeSet("opsmaturity_attestation_expiry_timestamp_seconds",
                                "Unix time at which the attestation of a criterion for a system "
                                "expires (it then counts as unknown).",
                                {"system", "criterion"});
  attestations_ = makeSet("opsmaturity_attestations",
                          "Attestations by state (pending, approved, rejected, revoked, "
                          "superseded, expired), the attestations file's included.",
                          {"state"});
  waivers_ = makeSet("opsmaturity_waivers",
                     "Waivers by state (pending, approved, rejected, revoked, expired).",
                     {"state"});
  flagged_documents_ = makeSet(
      "opsmaturity_attestation_document_flagged",
      "1 for each pending or approved attestation whose document changed (status=changed) or "
      "vanished (status=missing) since it was attested.",
      {"system", "criterion", "status"});
  waiver_expiry_ = makeSet("opsmaturity_waiver_expiry_timestamp_seconds",
                           "Unix time at which a waiver in force expires (the criterion's real "
                           "state then counts again in the level with waivers).",
                           {"system", "criterion"});
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
  collector_systems_ = &prometheus::BuildGauge()
                            .Name("opsmaturity_collector_systems")
                            .Help("Systems the collector's last successful poll matched (reported "
                                  "specific evidence of); 0 means its system mapping matches "
                                  "nothing.")
                            .Register(*registry_);
  collector_failures_ = &prometheus::BuildCounter()
                             .Name("opsmaturity_collector_failures_total")
                             .Help("Polls of the collector that failed.")
                             .Register(*registry_);
  scoring_duration_ = &prometheus::BuildGauge()
                           .Name("opsmaturity_scoring_duration_seconds")
                           .Help("How long the last scoring took (of the systems whose "
                                 "evidence, attestations, waivers or time changed; of all "
                                 "after a start or reload).")
                           .Register(*registry_)
                           .Add({});
  scoring_systems_ = &prometheus::BuildGauge()
                          .Name("opsmaturity_scored_systems")
                          .Help("Systems this agent scores (its shard's), as of its last "
                                "scoring.")
                          .Register(*registry_)
                          .Add({});
  rescored_systems_ = &prometheus::BuildGauge()
                           .Name("opsmaturity_rescored_systems")
                           .Help("Systems the last scoring scored again: those whose "
                                 "evidence, attestations, waivers or time changed (all after "
                                 "a start or reload).")
                           .Register(*registry_)
                           .Add({});
  scorings_ = &prometheus::BuildCounter()
                   .Name("opsmaturity_scorings_total")
                   .Help("Scorings of every system since the agent started (after polls, "
                         "coalesced, and every score_interval).")
                   .Register(*registry_)
                   .Add({});
  store_errors_ = &prometheus::BuildCounter()
                       .Name("opsmaturity_store_errors_total")
                       .Help("Writes to the durable store (storage_path) that failed: evidence, "
                             "scores, regressions or attestations not kept across a restart.")
                       .Register(*registry_)
                       .Add({});
  store_corrupt_ = &prometheus::BuildGauge()
                        .Name("opsmaturity_store_corrupt")
                        .Help("1 when SQLite has found the durable store damaged since start "
                              "(SQLITE_CORRUPT): the agent is not ready; see "
                              "docs/deploy.md#a-damaged-store.")
                        .Register(*registry_)
                        .Add({});
  http_refused_ = &prometheus::BuildCounter()
                       .Name("opsmaturity_http_refused_total")
                       .Help("HTTP answers refused with 503 instead of rendered or held: "
                             "reason memory (out of memory rendering), reply_budget (unsent "
                             "replies over max_inflight_reply_bytes).")
                       .Register(*registry_);
  http_refused_->Add({{"reason", "memory"}});
  http_refused_->Add({{"reason", "reply_budget"}});
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

void Metrics::scored(double seconds, size_t systems, size_t rescored) {
  scoring_duration_->Set(seconds);
  scoring_systems_->Set(static_cast<double>(systems));
  rescored_systems_->Set(static_cast<double>(rescored));
  scorings_->Increment();
}

void Metrics::regressed(const std::string& system, const std::string& item) {
  std::lock_guard lock(rows_mu_);
  if (auto* i = findRow(system, item)) i->regressions += 1;
}

void Metrics::levelChanged(const std::string& system, const std::string& item, TimePoint at) {
  std::lock_guard lock(rows_mu_);
  if (auto* i = findRow(system, item)) i->level_change = toSeconds(at);
}

void Metrics::setSystemGauges(
    const std::string& system, double stale_ratio,
    const std::vector<std::pair<std::string, TimePoint>>& attestation_expiries) {
  stale_ratio_.replaceFor(system, {{{system}, stale_ratio}});
  std::vector<std::pair<Key, double>> expiries;
  expiries.reserve(attestation_expiries.size());
  for (const auto& [criterion, at] : attestation_expiries) {
    expiries.push_back({{system, criterion}, toSeconds(at)});
  }
  attestation_expiry_.replaceFor(system, expiries);
}

void Metrics::removeSystemGauges(const std::string& system) {
  stale_ratio_.replaceFor(system, {});
  attestation_expiry_.replaceFor(system, {});
}

void Metrics::setLedger(const LedgerView& view) {
  for (const char* st : {"pending", "approved", "rejected", "revoked", "superseded", "expired"}) {
    auto n = view.attestation_states.find(st);
    attestations_.set({st}, n == view.attestation_states.end() ? 0 : n->second);
  }
  attestations_.commit();
  for (const char* st : {"pending", "approved", "rejected", "revoked", "expired"}) {
    auto n = view.waiver_states.find(st);
    waivers_.set({st}, n == view.waiver_states.end() ? 0 : n->second);
  }
  waivers_.commit();
  for (const auto& [labels, v] : view.flagged_documents) flagged_documents_.set(labels, v);
  flagged_documents_.commit();
  for (const auto& [k, at] : view.waiver_expiries) waiver_expiry_.set({k.first, k.second}, toSeconds(at));
  waiver_expiry_.commit();
}


void Metrics::storeError() { store_errors_->Increment(); }
void Metrics::setStoreCorrupt(bool corrupt) { store_corrupt_->Set(corrupt ? 1 : 0); }
void Metrics::httpRefused(const std::string& reason) {
  http_refused_->Add({{"reason", reason}}).Increment();
}

void Metrics::collectorDeclared(const std::string& collector) {
  collector_up_->Add({{"collector", collector}});
  collector_failures_->Add({{"collector", collector}});
}

void Metrics::collectorPolled(const std::string& collector, bool ok, double duration_seconds,
                              TimePoint finished, size_t facts, size_t systems) {
  prometheus::Labels l{{"collector", collector}};
  collector_up_->Add(l).Set(ok ? 1 : 0);
  collector_duration_->Add(l).Set(duration_seconds);
  if (ok) {
    collector_last_success_->Add(l).Set(toSeconds(finished));
    collector_facts_->Add(l).Set(static_cast<double>(facts));
    collector_systems_->Add(l).Set(static_cast<double>(systems));
  } else {
    collector_failures_->Add(l).Increment();
  }
}

namespace {

// The row of `item` among a system's items: at `hint` when the items come in the same order
// as last time (the pack's), else wherever it is.
template <typename Row>
Row* findItem(std::vector<Row>& items, const std::string& item, size_t hint = 0) {
  if (hint < items.size() && items[hint].item == item) return &items[hint];
  for (auto& i : items) {
    if (i.item == item) return &i;
  }
  return nullptr;
}

}  // namespace

Metrics::ItemRow* Metrics::findRow(const std::string& system, const std::string& item) {
  // rows_ are sorted by system name (setScores).
  auto r = std::lower_bound(rows_.begin(), rows_.end(), system,
                            [](const SystemRow& row, const std::string& s) { return row.system < s; });
  if (r == rows_.end() || r->system != system) return nullptr;
  return findItem(r->items, item);
}

Metrics::SystemRow Metrics::rowOf(const scorer::SystemScore& s) const {
  SystemRow r;
  r.system = s.system;
  r.level = s.level;
  r.progress = s.progress;
  r.level_with_waivers = s.level_with_waivers;
  r.dimension_progress = s.dimension_progress;
  r.items.reserve(s.items.size());
  for (const auto& item : s.items) {
    ItemRow ir;
    ir.domain = item.domain;
    ir.item = item.item;
    ir.level = item.level;
    ir.progress = item.progress;
    ir.level_with_waivers = item.level_with_waivers;
    ir.waived = item.waived;
    ir.applicable = item.applicable;
    ir.not_applicable_because = item.not_applicable_because;
    ir.dimension_progress = item.dimension_progress;
    ir.dimension_criteria = item.dimension_criteria;
    for (const auto& c : item.criteria) ++ir.counts[static_cast<int>(c.state)];
    r.items.push_back(std::move(ir));
  }
  for (const auto& d : s.domains) {
    if (d.applicable) r.domains.push_back({d.domain, d.level, d.progress});
  }
  return r;
}

void Metrics::carryCounters(std::vector<SystemRow>& rows) {
  // Counters exist at 0 for every scored item, so that increase() sees the first regression,
  // and carry over while the item is scored; series of items no longer scored go away.
  auto old = rows_.begin();
  for (auto& r : rows) {
    while (old != rows_.end() && old->system < r.system) ++old;
    if (old == rows_.end() || old->system != r.system) continue;
    for (size_t k = 0; k < r.items.size(); ++k) {
      if (const ItemRow* before = findItem(old->items, r.items[k].item, k)) {
        r.items[k].regressions = before->regressions;
        r.items[k].level_change = before->level_change;
      }
    }
  }
}

void Metrics::setScores(const std::vector<scorer::SystemScore>& scores) {
  std::vector<SystemRow> rows;
  rows.reserve(scores.size());
  for (const auto& s : scores) rows.push_back(rowOf(s));
  auto by_name = [](const SystemRow& a, const SystemRow& b) { return a.system < b.system; };
  if (!std::is_sorted(rows.begin(), rows.end(), by_name)) std::sort(rows.begin(), rows.end(), by_name);
  std::lock_guard lock(rows_mu_);
  carryCounters(rows);
  rows_ = std::move(rows);
}

void Metrics::updateScores(const std::vector<const scorer::SystemScore*>& scores,
                           const std::vector<std::string>& removed) {
  std::vector<SystemRow> rows;
  rows.reserve(scores.size());
  for (const auto* s : scores) rows.push_back(rowOf(*s));
  auto by_name = [](const SystemRow& a, const SystemRow& b) { return a.system < b.system; };
  if (!std::is_sorted(rows.begin(), rows.end(), by_name)) std::sort(rows.begin(), rows.end(), by_name);
  std::vector<std::string> gone = removed;
  std::sort(gone.begin(), gone.end());
  std::lock_guard lock(rows_mu_);
  carryCounters(rows);
  auto at = [&](const std::string& system) {
    return std::lower_bound(rows_.begin(), rows_.end(), system,
                            [](const SystemRow& r, const std::string& s) { return r.system < s; });
  };
  if (rows.size() + gone.size() <= 64) {
    // A few systems (the common incremental scoring): in place, without rebuilding (and
    // reallocating) the rows of the whole estate.
    for (auto& row : rows) {
      auto it = at(row.system);
      if (it != rows_.end() && it->system == row.system) {
        *it = std::move(row);
      } else {
        rows_.insert(it, std::move(row));
      }
    }
    for (const auto& system : gone) {
      if (auto it = at(system); it != rows_.end() && it->system == system) rows_.erase(it);
    }
    return;
  }
  // Merges the new rows into rows_ (both sorted): a new row replaces the old one of its
  // system, the rows of removed systems go.
  std::vector<SystemRow> merged;
  merged.reserve(rows_.size() + rows.size());
  auto next = rows.begin();
  for (auto& old : rows_) {
    while (next != rows.end() && next->system < old.system) merged.push_back(std::move(*next++));
    if (next != rows.end() && next->system == old.system) {
      merged.push_back(std::move(*next++));
    } else if (!std::binary_search(gone.begin(), gone.end(), old.system)) {
      merged.push_back(std::move(old));
    }
  }
  while (next != rows.end()) merged.push_back(std::move(*next++));
  rows_ = std::move(merged);
}

namespace {

// A sample value as the Prometheus text format writes it.
void appendValue(std::string* out, double v) {
  char buf[32];
  if (std::isfinite(v) && v == static_cast<double>(static_cast<long long>(v)) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
    // The shortest form that reads back the same, as most exporters print.
    for (int p = 1; p <= 17; ++p) {
      char shorter[32];
      std::snprintf(shorter, sizeof shorter, "%.*g", p, v);
      if (std::strtod(shorter, nullptr) == v) {
        std::snprintf(buf, sizeof buf, "%s", shorter);
        break;
      }
    }
  }
  *out += buf;
}

// Label values here are system names, ids and states: escape what the format requires.
void appendLabel(std::string* out, const char* name, const std::string& value, bool first) {
  if (!first) *out += ',';
  *out += name;
  *out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      *out += '\\';
      *out += c;
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
  *out += '"';
}

void header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

}  // namespace

void Metrics::renderScores(std::string* out) const {
  static const std::vector<SystemRow> kNoRows;  // for families not exported (no copy of rows_)
  std::lock_guard lock(rows_mu_);
  if (rows_.empty()) return;
  size_t items = 0;
  for (const auto& r : rows_) items += r.items.size();
  // About 600 bytes per item (its series with labels); the last rendering's size plus a
  // margin once there is one, so that a large exposition is not doubled while it grows.
  const size_t start = out->size();
  out->reserve(start + (last_scores_size_ ? last_scores_size_ + last_scores_size_ / 16 : items * 700));
  header(out, "opsmaturity_item_level", "gauge", "Maturity level (0-5) of a capability item for a system.");
  for (const auto& r : rows_) {
    for (const auto& i : r.items) {
      if (!i.applicable) continue;
      *out += "opsmaturity_item_level{";
      appendLabel(out, "domain", i.domain, true);
      appendLabel(out, "item", i.item, false);
      appendLabel(out, "system", r.system, false);
      *out += "} ";
      appendValue(out, i.level);
      *out += '\n';
    }
  }
  if (export_item_progress_) {
    header(out, "opsmaturity_item_progress", "gauge",
           "Level plus the share of the next level's criteria passed (0-5).");
  }
  for (const auto& r : export_item_progress_ ? rows_ : kNoRows) {
    for (const auto& i : r.items) {
      if (!i.applicable) continue;
      *out += "opsmaturity_item_progress{";
      appendLabel(out, "domain", i.domain, true);
      appendLabel(out, "item", i.item, false);
      appendLabel(out, "system", r.system, false);
      *out += "} ";
      appendValue(out, i.progress);
      *out += '\n';
    }
  }
  header(out, "opsmaturity_item_not_applicable", "gauge",
         "1 for an item that does not apply to a system (its profile says it lacks the item's "
         "subject); such an item has no level or progress series and is left out of its "
         "domain's level. `because` names the profile facts that decided it.");
  for (const auto& r : rows_) {
    for (const auto& i : r.items) {
      if (i.applicable) continue;
      *out += "opsmaturity_item_not_applicable{";
      appendLabel(out, "because", i.not_applicable_because, true);
      appendLabel(out, "domain", i.domain, false);
      appendLabel(out, "item", i.item, false);
      appendLabel(out, "system", r.system, false);
      *out += "} 1\n";
    }
  }
  if (export_criteria_states_) {
    header(out, "opsmaturity_item_criteria", "gauge",
           "Criteria of an item by evaluation state, over all levels.");
  }
  for (const auto& r : export_criteria_states_ ? rows_ : kNoRows) {
    for (const auto& i : r.items) {
      for (int st = 0; st < 4; ++st) {
        *out += "opsmaturity_item_criteria{";
        appendLabel(out, "item", i.item, true);
        appendLabel(out, "state", scorer::criterionStateName(static_cast<scorer::CriterionState>(st)),
                    false);
        appendLabel(out, "system", r.system, false);
        *out += "} ";
        appendValue(out, i.counts[st]);
        *out += '\n';
      }
    }
  }
  header(out, "opsmaturity_domain_level", "gauge",
         "Maturity level of a capability domain for a system (aggregate of its scored items, min "
         "by default).");
  for (const auto& r : rows_) {
    for (const auto& d : r.domains) {
      *out += "opsmaturity_domain_level{";
      appendLabel(out, "domain", d.domain, true);
      appendLabel(out, "system", r.system, false);
      *out += "} ";
      appendValue(out, d.level);
      *out += '\n';
    }
  }
  header(out, "opsmaturity_domain_progress", "gauge", "Mean progress of a domain's scored items.");
  for (const auto& r : rows_) {
    for (const auto& d : r.domains) {
      *out += "opsmaturity_domain_progress{";
      appendLabel(out, "domain", d.domain, true);
      appendLabel(out, "system", r.system, false);
      *out += "} ";
      appendValue(out, d.progress);
      *out += '\n';
    }
  }
  header(out, "opsmaturity_system_level", "gauge",
         "Maturity level of a system (aggregate of its domains, min by default).");
  for (const auto& r : rows_) {
    *out += "opsmaturity_system_level{";
    appendLabel(out, "system", r.system, true);
    *out += "} ";
    appendValue(out, r.level);
    *out += '\n';
  }
  header(out, "opsmaturity_system_level_with_waivers", "gauge",
         "Maturity level of a system counting waived criteria as passed (equal to "
         "opsmaturity_system_level when none is waived).");
  for (const auto& r : rows_) {
    *out += "opsmaturity_system_level_with_waivers{";
    appendLabel(out, "system", r.system, true);
    *out += "} ";
    appendValue(out, r.level_with_waivers);
    *out += '\n';
  }
  bool any_waived = false;
  for (const auto& r : rows_) {
    for (const auto& i : r.items) any_waived = any_waived || (i.applicable && i.waived > 0);
  }
  if (any_waived) {
    header(out, "opsmaturity_item_level_with_waivers", "gauge",
           "Level of an item counting waived criteria as passed; only for items with a waived "
           "criterion (elsewhere it equals opsmaturity_item_level).");
    for (const auto& r : rows_) {
      for (const auto& i : r.items) {
        if (!i.applicable || i.waived == 0) continue;
        *out += "opsmaturity_item_level_with_waivers{";
        appendLabel(out, "domain", i.domain, true);
        appendLabel(out, "item", i.item, false);
        appendLabel(out, "system", r.system, false);
        *out += "} ";
        appendValue(out, i.level_with_waivers);
        *out += '\n';
      }
    }
  }
  header(out, "opsmaturity_system_progress", "gauge", "Mean progress of a system's scored domains.");
  for (const auto& r : rows_) {
    *out += "opsmaturity_system_progress{";
    appendLabel(out, "system", r.system, true);
    *out += "} ";
    appendValue(out, r.progress);
    *out += '\n';
  }
  header(out, "opsmaturity_system_dimension_progress", "gauge",
         "Progress (0-5) of a system in one dimension of the standard (people 组织人员, process "
         "流程规范, tools 工具平台): the mean over its applicable items of the progress of their "
         "criteria of that dimension.");
  for (const auto& r : rows_) {
    for (int d = 0; d < scorer::kDimensions; ++d) {
      *out += "opsmaturity_system_dimension_progress{";
      appendLabel(out, "dimension", scorer::dimensionName(static_cast<scorer::Dimension>(d)), true);
      appendLabel(out, "system", r.system, false);
      *out += "} ";
      appendValue(out, r.dimension_progress[d]);
      *out += '\n';
    }
  }
  if (export_item_dimensions_) {
    header(out, "opsmaturity_item_dimension_progress", "gauge",
           "Progress (0-5) of an item's criteria of one dimension of the standard (people, "
           "process, tools), computed like opsmaturity_item_progress; absent for a dimension "
           "the item has no criteria of, and for an item not applicable.");
    for (const auto& r : rows_) {
      for (const auto& i : r.items) {
        if (!i.applicable) continue;
        for (int d = 0; d < scorer::kDimensions; ++d) {
          if (i.dimension_criteria[d] == 0) continue;
          *out += "opsmaturity_item_dimension_progress{";
          appendLabel(out, "dimension", scorer::dimensionName(static_cast<scorer::Dimension>(d)),
                      true);
          appendLabel(out, "domain", i.domain, false);
          appendLabel(out, "item", i.item, false);
          appendLabel(out, "system", r.system, false);
          *out += "} ";
          appendValue(out, i.dimension_progress[d]);
          *out += '\n';
        }
      }
    }
  }
  header(out, "opsmaturity_item_regressions_total", "counter",
         "Level drops of an item where a criterion went from pass to fail (not drops from "
         "evidence going unknown).");
  bool any_change = false;
  for (const auto& r : rows_) {
    for (const auto& i : r.items) {
      *out += "opsmaturity_item_regressions_total{";
      appendLabel(out, "item", i.item, true);
      appendLabel(out, "system", r.system, false);
      *out += "} ";
      appendValue(out, i.regressions);
      *out += '\n';
      any_change = any_change || i.level_change >= 0;
    }
  }
  if (any_change && export_item_progress_) {
    header(out, "opsmaturity_item_level_change_timestamp_seconds", "gauge",
           "Unix time of the last change of an item's level (up or down) since the agent started.");
    for (const auto& r : rows_) {
      for (const auto& i : r.items) {
        if (i.level_change < 0) continue;
        *out += "opsmaturity_item_level_change_timestamp_seconds{";
        appendLabel(out, "item", i.item, true);
        appendLabel(out, "system", r.system, false);
        *out += "} ";
        appendValue(out, i.level_change);
        *out += '\n';
      }
    }
  }
  last_scores_size_ = out->size() - start;
}

std::string Metrics::render() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  std::string text = out.str();
  renderScores(&text);
  return text;
}

}  // namespace opsm::agent
