#include "agent/exposition/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace opsm::agent {

#ifndef OPSM_VERSION
#define OPSM_VERSION "0.0.0"
#endif
#ifndef OPSM_REVISION
#define OPSM_REVISION "unknown"
#endif

namespace {

// A sample value as the Prometheus text format writes it.
void appendValue(std::string* out, double v) {
  char buf[32];
  if (std::isfinite(v) && std::fabs(v) < 1e15 && v == static_cast<double>(static_cast<long long>(v))) {
    auto end = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v)).ptr;
    out->append(buf, end);
    return;
  }
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else {
    // The shortest form that reads back the same, as most exporters print.
    auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    out->append(buf, end);
  }
}

using Label = std::pair<const char*, std::string_view>;

// Writes the samples of one family: labels in the order given (each family gives them sorted
// by name, as Prometheus' own clients do), values escaped as the format requires.
class Samples {
 public:
  Samples(std::string* out, const char* name) : out_(out), name_(name) {}
  void add(std::initializer_list<Label> labels, double value) {
    *out_ += name_;
    if (labels.size()) {
      *out_ += '{';
      bool first = true;
      for (const auto& [label, v] : labels) {
        if (!first) *out_ += ',';
        first = false;
        *out_ += label;
        *out_ += "=\"";
        // (A loop, not find_first_of: that looks each character up in the set with memchr.)
        bool plain = true;
        for (char ch : v) plain = plain && ch != '\\' && ch != '"' && ch != '\n';
        if (plain) {
          out_->append(v);  // the common case: nothing to escape
        } else {
          for (char c : v) {
            if (c == '\\' || c == '"') {
              *out_ += '\\';
              *out_ += c;
            } else if (c == '\n') {
              *out_ += "\\n";
            } else {
              *out_ += c;
            }
          }
        }
        *out_ += '"';
      }
      *out_ += '}';
    }
    *out_ += ' ';
    appendValue(out_, value);
    *out_ += '\n';
  }

 private:
  std::string* out_;
  const char* name_;
};

struct Input {
  const Snapshot& snap;
  const MetricsContext& ctx;
};

// One metric family: its name, type and help, when it is exported, and its samples.
struct Family {
  const char* name;
  const char* type;
  const char* help;
  bool (*exported)(const Input&);  // null: always
  void (*samples)(const Input&, Samples&);
};

const char* stateName(int st) {
  return scorer::criterionStateName(static_cast<scorer::CriterionState>(st));
}
const char* dimension(int d) { return scorer::dimensionName(static_cast<scorer::Dimension>(d)); }
double seconds(TimePoint t) { return toSeconds(t); }

template <typename Fn>
void forItems(const Input& in, Fn fn) {
  for (const auto& s : in.snap.scores) {
    for (size_t k = 0; k < s->items.size(); ++k) fn(*s, s->items[k], s->records[k]);
  }
}

bool anyWaivedItem(const Input& in) {
  for (const auto& s : in.snap.scores) {
    for (const auto& i : s->items) {
      if (i.applicable && i.waived > 0) return true;
    }
  }
  return false;
}

bool anyLevelChange(const Input& in) {
  if (!in.ctx.export_item_progress) return false;
  for (const auto& s : in.snap.scores) {
    for (const auto& r : s->records) {
      if (r.level_changed != TimePoint{}) return true;
    }
  }
  return false;
}

// Every family of /metrics, in the order they are written.
const Family kFamilies[] = {
    // ---- the scores ----------------------------------------------------------------------
    {"opsmaturity_item_level", "gauge", "Maturity level (0-5) of a capability item for a system.",
     nullptr,
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord&) {
         if (i.applicable) out.add({{"domain", i.domain}, {"item", i.item}, {"system", s.system}}, i.level);
       });
     }},
    {"opsmaturity_item_progress", "gauge",
     "Level plus the share of the next level's criteria passed (0-5).",
     [](const Input& in) { return in.ctx.export_item_progress; },
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord&) {
         if (i.applicable) out.add({{"domain", i.domain}, {"item", i.item}, {"system", s.system}}, i.progress);
       });
     }},
    {"opsmaturity_item_not_applicable", "gauge",
     "1 for an item that does not apply to a system (its profile says it lacks the item's "
     "subject); such an item has no level or progress series and is left out of its domain's "
     "level. `because` names the profile facts that decided it.",
     nullptr,
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord&) {
         if (!i.applicable) {
           out.add({{"because", i.not_applicable_because}, {"domain", i.domain}, {"item", i.item},
                    {"system", s.system}},
                   1);
         }
       });
     }},
    {"opsmaturity_item_criteria", "gauge", "Criteria of an item by evaluation state, over all levels.",
     [](const Input& in) { return in.ctx.export_criteria_states; },
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord&) {
         int counts[4] = {0, 0, 0, 0};
         for (const auto& c : i.criteria) ++counts[static_cast<int>(c.state)];
         for (int st = 0; st < 4; ++st) {
           out.add({{"item", i.item}, {"state", stateName(st)}, {"system", s.system}}, counts[st]);
         }
       });
     }},
    {"opsmaturity_domain_level", "gauge",
     "Maturity level of a capability domain for a system (aggregate of its scored items, min by "
     "default).",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) {
         for (const auto& d : s->domains) {
           if (d.applicable) out.add({{"domain", d.domain}, {"system", s->system}}, d.level);
         }
       }
     }},
    {"opsmaturity_domain_progress", "gauge", "Mean progress of a domain's scored items.", nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) {
         for (const auto& d : s->domains) {
           if (d.applicable) out.add({{"domain", d.domain}, {"system", s->system}}, d.progress);
         }
       }
     }},
    {"opsmaturity_system_level", "gauge",
     "Maturity level of a system (aggregate of its domains, min by default).", nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) out.add({{"system", s->system}}, s->level);
     }},
    {"opsmaturity_system_level_with_waivers", "gauge",
     "Maturity level of a system counting waived criteria as passed (equal to "
     "opsmaturity_system_level when none is waived).",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) out.add({{"system", s->system}}, s->level_with_waivers);
     }},
    {"opsmaturity_item_level_with_waivers", "gauge",
     "Level of an item counting waived criteria as passed; only for items with a waived "
     "criterion (elsewhere it equals opsmaturity_item_level).",
     anyWaivedItem,
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord&) {
         if (i.applicable && i.waived > 0) {
           out.add({{"domain", i.domain}, {"item", i.item}, {"system", s.system}}, i.level_with_waivers);
         }
       });
     }},
    {"opsmaturity_system_progress", "gauge", "Mean progress of a system's scored domains.", nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) out.add({{"system", s->system}}, s->progress);
     }},
    {"opsmaturity_system_dimension_progress", "gauge",
     "Progress (0-5) of a system in one dimension of the standard (people 组织人员, process "
     "流程规范, tools 工具平台): the mean over its applicable items of the progress of their "
     "criteria of that dimension.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) {
         for (int d = 0; d < scorer::kDimensions; ++d) {
           out.add({{"dimension", dimension(d)}, {"system", s->system}}, s->dimension_progress[d]);
         }
       }
     }},
    {"opsmaturity_item_dimension_progress", "gauge",
     "Progress (0-5) of an item's criteria of one dimension of the standard (people, process, "
     "tools), computed like opsmaturity_item_progress; absent for a dimension the item has no "
     "criteria of, and for an item not applicable.",
     [](const Input& in) { return in.ctx.export_item_dimensions; },
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord&) {
         if (!i.applicable) return;
         for (int d = 0; d < scorer::kDimensions; ++d) {
           if (i.dimension_criteria[d] == 0) continue;
           out.add({{"dimension", dimension(d)}, {"domain", i.domain}, {"item", i.item},
                    {"system", s.system}},
                   i.dimension_progress[d]);
         }
       });
     }},
    {"opsmaturity_item_regressions_total", "counter",
     "Level drops of an item where a criterion went from pass to fail (not drops from evidence "
     "going unknown).",
     nullptr,
     [](const Input& in, Samples& out) {
       // At 0 for every scored item, so that increase() sees the first regression.
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord& r) {
         out.add({{"item", i.item}, {"system", s.system}}, static_cast<double>(r.regressions));
       });
     }},
    {"opsmaturity_item_level_change_timestamp_seconds", "gauge",
     "Unix time of the last change of an item's level (up or down) since the agent started.",
     anyLevelChange,
     [](const Input& in, Samples& out) {
       forItems(in, [&](const SystemView& s, const scorer::ItemScore& i, const ItemRecord& r) {
         if (r.level_changed != TimePoint{}) {
           out.add({{"item", i.item}, {"system", s.system}}, seconds(r.level_changed));
         }
       });
     }},
    {"opsmaturity_evidence_stale_ratio", "gauge",
     "Share (0-1) of a system's collector evidence that is stale: expired, or from a collector "
     "whose last poll failed.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) out.add({{"system", s->system}}, s->stale_ratio);
     }},
    {"opsmaturity_attestation_expiry_timestamp_seconds", "gauge",
     "Unix time at which the attestation of a criterion for a system expires (it then counts as "
     "unknown).",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& s : in.snap.scores) {
         for (const auto& [criterion, at] : s->attestation_expiries) {
           out.add({{"criterion", criterion}, {"system", s->system}}, seconds(at));
         }
       }
     }},
    // ---- the ledger ----------------------------------------------------------------------
    {"opsmaturity_attestations", "gauge",
     "Attestations by state (pending, approved, rejected, revoked, superseded, expired), the "
     "attestations file's included.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const char* st : {"approved", "expired", "pending", "rejected", "revoked", "superseded"}) {
         auto n = in.snap.ledger->attestation_states.find(st);
         out.add({{"state", st}}, n == in.snap.ledger->attestation_states.end() ? 0 : n->second);
       }
     }},
    {"opsmaturity_waivers", "gauge",
     "Waivers by state (pending, approved, rejected, revoked, expired).", nullptr,
     [](const Input& in, Samples& out) {
       for (const char* st : {"approved", "expired", "pending", "rejected", "revoked"}) {
         auto n = in.snap.ledger->waiver_states.find(st);
         out.add({{"state", st}}, n == in.snap.ledger->waiver_states.end() ? 0 : n->second);
       }
     }},
    {"opsmaturity_attestation_document_flagged", "gauge",
     "1 for each pending or approved attestation whose document changed (status=changed) or "
     "vanished (status=missing) since it was attested.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& f : in.snap.ledger->flagged_documents) {
         out.add({{"criterion", f[1]}, {"status", f[2]}, {"system", f[0]}}, 1);
       }
     }},
    {"opsmaturity_waiver_expiry_timestamp_seconds", "gauge",
     "Unix time at which a waiver in force expires (the criterion's real state then counts again "
     "in the level with waivers).",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& [k, at] : in.snap.ledger->waiver_expiries) {
         out.add({{"criterion", k.second}, {"system", k.first}}, seconds(at));
       }
     }},
    // ---- the collectors ------------------------------------------------------------------
    {"opsmaturity_collector_up", "gauge", "1 if the collector's last poll succeeded, 0 if it failed.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& c : in.snap.collectors) out.add({{"collector", c.name}}, c.up ? 1 : 0);
     }},
    {"opsmaturity_collector_duration_seconds", "gauge", "How long the collector's last poll took.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& c : in.snap.collectors) {
         if (c.polled) out.add({{"collector", c.name}}, c.duration_seconds);
       }
     }},
    {"opsmaturity_collector_last_success_timestamp_seconds", "gauge",
     "Unix time of the collector's last successful poll.", nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& c : in.snap.collectors) {
         if (c.successes) out.add({{"collector", c.name}}, seconds(c.last_success));
       }
     }},
    {"opsmaturity_collector_facts", "gauge", "Facts the collector's last successful poll produced.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& c : in.snap.collectors) {
         if (c.successes) out.add({{"collector", c.name}}, static_cast<double>(c.facts));
       }
     }},
    {"opsmaturity_collector_systems", "gauge",
     "Systems the collector's last successful poll matched (reported specific evidence of); 0 "
     "means its system mapping matches nothing.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& c : in.snap.collectors) {
         if (c.successes) out.add({{"collector", c.name}}, static_cast<double>(c.systems));
       }
     }},
    {"opsmaturity_collector_failures_total", "counter", "Polls of the collector that failed.",
     nullptr,
     [](const Input& in, Samples& out) {
       for (const auto& c : in.snap.collectors) {
         out.add({{"collector", c.name}}, static_cast<double>(c.failures));
       }
     }},
    // ---- the agent -----------------------------------------------------------------------
    {"opsmaturity_snapshot_generation", "gauge",
     "Generation of the snapshot this exposition was rendered from (every scoring publishes the "
     "next; the API's answers name theirs in a generation field).",
     nullptr,
     [](const Input& in, Samples& out) { out.add({}, static_cast<double>(in.snap.generation)); }},
    {"opsmaturity_scoring_duration_seconds", "gauge",
     "How long the last scoring took (of the systems whose evidence, attestations, waivers or "
     "time changed; of all after a start or reload).",
     nullptr, [](const Input& in, Samples& out) { out.add({}, in.snap.scoring.seconds); }},
    {"opsmaturity_scored_systems", "gauge",
     "Systems this agent scores (its shard's), as of its last scoring.", nullptr,
     [](const Input& in, Samples& out) { out.add({}, static_cast<double>(in.snap.scores.size())); }},
    {"opsmaturity_rescored_systems", "gauge",
     "Systems the last scoring scored again: those whose evidence, attestations, waivers or time "
     "changed (all after a start or reload).",
     nullptr,
     [](const Input& in, Samples& out) { out.add({}, static_cast<double>(in.snap.scoring.rescored)); }},
    {"opsmaturity_scorings_total", "counter",
     "Scorings of every system since the agent started (after polls, coalesced, and every "
     "score_interval).",
     nullptr,
     [](const Input& in, Samples& out) { out.add({}, static_cast<double>(in.snap.scoring.count)); }},
    {"opsmaturity_store_errors_total", "counter",
     "Writes to the durable store (storage_path) that failed: evidence, scores, regressions or "
     "attestations not kept across a restart.",
     nullptr,
     [](const Input& in, Samples& out) { out.add({}, static_cast<double>(in.snap.store_errors)); }},
    {"opsmaturity_store_corrupt", "gauge",
     "1 when SQLite has found the durable store damaged since start (SQLITE_CORRUPT): the agent "
     "is not ready; see docs/deploy.md#a-damaged-store.",
     nullptr, [](const Input& in, Samples& out) { out.add({}, in.ctx.store_corrupt ? 1 : 0); }},
    {"opsmaturity_http_refused_total", "counter",
     "HTTP answers refused with 503 instead of rendered or held: reason memory (out of memory "
     "rendering), reply_budget (unsent replies over max_inflight_reply_bytes).",
     nullptr,
     [](const Input& in, Samples& out) {
       out.add({{"reason", "memory"}}, static_cast<double>(in.ctx.refused_memory));
       out.add({{"reason", "reply_budget"}}, static_cast<double>(in.ctx.refused_reply_budget));
     }},
    {"opsmaturity_shard_info", "gauge",
     "The shard of systems this agent scores (systems whose FNV-1a hash mod count is index); the "
     "value is always 1.",
     nullptr,
     [](const Input& in, Samples& out) {
       const std::string count = std::to_string(in.ctx.shard_count);
       const std::string index = std::to_string(in.ctx.shard_index);
       out.add({{"count", count}, {"index", index}}, 1);
     }},
    {"opsmaturity_build_info", "gauge", "Build information; the value is always 1.", nullptr,
     [](const Input&, Samples& out) { out.add({{"revision", OPSM_REVISION}, {"version", OPSM_VERSION}}, 1); }},
    {"opsmaturity_item_info", "gauge",
     "Names of a capability item of the standard; the value is always 1.", nullptr,
     [](const Input& in, Samples& out) {
       if (!in.snap.pack) return;
       const auto& model = in.snap.pack->model;
       for (const auto& item : model.items) {
         const auto* domain = model.findDomain(item.domain);
         const std::string none;
         out.add({{"domain", item.domain},
                  {"domain_en", domain ? domain->en : none},
                  {"domain_zh", domain ? domain->zh : none},
                  {"item", item.id},
                  {"name_en", item.en},
                  {"name_zh", item.zh}},
                 1);
       }
     }},
};

}  // namespace

MetricsContext metricsContext(const Agent& agent) {
  const auto& config = agent.config();
  MetricsContext ctx;
  ctx.shard_index = config.shard.index;
  ctx.shard_count = config.shard.count;
  ctx.export_criteria_states = config.export_criteria_states;
  ctx.export_item_dimensions = config.export_item_dimensions;
  ctx.export_item_progress = config.export_item_progress;
  ctx.refused_memory = agent.httpRefusals(Agent::Refusal::kMemory);
  ctx.refused_reply_budget = agent.httpRefusals(Agent::Refusal::kReplyBudget);
  ctx.store_corrupt = agent.storeCorrupt();
  return ctx;
}

std::string renderMetrics(const Snapshot& snapshot, const MetricsContext& context) {
  const Input in{snapshot, context};
  size_t items = 0;
  for (const auto& s : snapshot.scores) items += s->items.size();
  std::string out;
  // About 300 bytes per item in the default series (their labels); more when opted in.
  out.reserve(16384 + items * 320);
  for (const Family& f : kFamilies) {
    if (f.exported && !f.exported(in)) continue;
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += f.help;
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += f.type;
    out += '\n';
    Samples samples(&out, f.name);
    f.samples(in, samples);
  }
  return out;
}

std::string renderMetrics(const Agent& agent) {
  return renderMetrics(*agent.snapshot(), metricsContext(agent));
}

}  // namespace opsm::agent
