#include "agent/core/agent.h"

#include <algorithm>
#include <set>

#include "agent/core/documents.h"
#include "collectors/common/http_client.h"
#include "common/log.h"
#include "common/secrets.h"
#include "common/yaml_util.h"
#include "scorer/attestations.h"
#include "scorer/domain.h"
#include "scorer/timing.h"

namespace opsm::agent {

namespace {

// Where `item` is among a score's items (at `hint` when the items come in the same order as
// last time, the pack's), or items.size().
size_t itemIndex(const scorer::SystemScore& score, const std::string& item, size_t hint = 0) {
  if (hint < score.items.size() && score.items[hint].item == item) return hint;
  for (size_t i = 0; i < score.items.size(); ++i) {
    if (score.items[i].item == item) return i;
  }
  return score.items.size();
}

}  // namespace

Result<std::unique_ptr<Agent>> Agent::create(AgentConfig config) {
  // One budget for the process's HTTP responses, across every collector.
  collectors::setResponseBudget(config.max_inflight_response_bytes);
  auto pack = scorer::loadRulePack(config.rules_dir);
  if (!pack) return pack.error();
  if (pack->items.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     config.rules_dir + ": the rule pack has no item rule files");
  }
  std::unique_ptr<Agent> agent(new Agent(std::move(config), std::move(*pack)));
  auto tokens = agent->loadTokens();
  if (!tokens) return tokens.error();
  agent->tokens_ = std::move(*tokens);
  // Attestations of the API kept as evidence by a store of schema 1 (before approval existed).
  std::vector<scorer::Evidence> legacy_attestations;
  // Stored evidence of collectors the config no longer has, pieces by collector.
  std::map<std::string, size_t> removed;
  if (!agent->config_.storage_path.empty()) {
    auto db = Store::open(agent->config_.storage_path);
    if (!db) return db.error();
    agent->db_ = std::move(*db);
    // What the last run knew: the collectors' evidence (still valid until it expires) and
    // each item's level, so that a restart reports no regression.
    auto evidence = agent->db_->loadEvidence();
    if (!evidence) return evidence.error();
    std::map<std::string, std::vector<scorer::Evidence>> by_collector;
    std::set<std::string> configured;
    for (const auto& c : agent->config_.collectors) configured.insert(c.name);
    size_t restored = 0;
    for (auto& e : *evidence) {
      if (e.source.collector == scorer::kApiAttestationSource) {
        legacy_attestations.push_back(std::move(e));
        continue;
      }
      if (!configured.count(e.source.collector)) {
        // A collector no longer configured: its word is not renewed by anyone, so it must not
        // count until it expires. Deleted below, said in the log and the audit log.
        ++removed[e.source.collector];
        continue;
      }
      if (!agent->mine(e.system)) continue;
      by_collector[e.source.collector].push_back(std::move(e));
      ++restored;
    }
    for (auto& [collector, ev] : by_collector) {
      for (const auto& c : agent->config_.collectors) {
        if (c.name == collector) scorer::deriveDomainEvidence(c.domain_of, &ev);
      }
      agent->store_.replaceFromCollector(collector, std::move(ev));
    }
    auto items = agent->db_->loadItemStates();
    if (!items) return items.error();
    for (auto& i : *items) agent->tracker_.restore(i.system, i.item, i.level, std::move(i.states));
    agent->tracker_.recordBaselineChanges(true);
    // The recorded levels the console's history and the report card show, read once here;
    // from now on each scoring carries them on in the snapshot (no reader reads SQLite).
    auto history = agent->db_->loadHistory("");
    if (!history) return history.error();
    for (const auto& h : *history) {
      if (!agent->mine(h.system)) continue;
      auto& levels = agent->loaded_history_[h.system][h.item];
      if (levels.empty() || levels.back().level != h.level) levels.push_back({h.at, h.level});
    }
    logger("agent")->info("{}: restored {} pieces of evidence and {} item baselines",
                          agent->config_.storage_path, restored, items->size());
  }
  // The intake takes the collector instances from the config; it follows setClock().
  Agent* self = agent.get();
  agent->intake_ = std::make_unique<Intake>(agent->config_, agent->store_, agent->db_.get(),
                                            agent->store_health_, [self] { return self->clock_(); });
  auto ledger = Ledger::open(agent->db_.get());
  if (!ledger) return ledger.error();
  agent->ledger_ = std::move(*ledger);
  for (const auto& [collector, pieces] : removed) {
    if (auto st = agent->db_->replaceEvidence(collector, {}); !st) return st.error();
    const std::string what = std::to_string(pieces) + " pieces of evidence of collector '" +
                             collector + "', no longer in " + agent->config_.file;
    logger("agent")->warn("{}: deleted {}", agent->config_.storage_path, what);
    if (auto st = agent->ledger_->audit("agent", "evidence.forget", what, agent->clock_()); !st) {
      return st.error();
    }
  }
  if (!legacy_attestations.empty()) {
    // Into the ledger, pending: nobody approved them (they count as before unless
    // require_approval is set), then out of the evidence table, in that order.
    std::vector<scorer::Attestation> records;
    for (const auto& e : legacy_attestations) {
      if (!scorer::isAttestationKey(e.key) || !e.value.isBool()) continue;
      scorer::Attestation a;
      a.system = e.system;
      a.criterion = e.key.substr(scorer::attestationKey("").size());
      a.met = e.value.asBool();
      // The locator was "POST /api/v1/attestations request body by <who>: <document>".
      const std::string& loc = e.source.locator;
      auto by = loc.find(" by ");
      auto colon = by == std::string::npos ? std::string::npos : loc.find(": ", by + 4);
      a.attested_by = colon == std::string::npos ? "unknown" : loc.substr(by + 4, colon - by - 4);
      a.document = colon == std::string::npos ? loc : loc.substr(colon + 2);
      a.date = e.observed_at;
      a.expires = e.expires_at;
      a.comment = "imported from a store of schema 1 (before approval existed)";
      records.push_back(std::move(a));
    }
    if (auto st = agent->ledger_->import(std::move(records), agent->clock_()); !st) return st.error();
    if (auto st = agent->db_->replaceEvidence(scorer::kApiAttestationSource, {}); !st) {
      return st.error();
    }
  }
  if (auto st = agent->refreshAttestations(); !st) return st.error();
  agent->publishAttestations();
  {
    // Before the first scoring readers see no score, and the ledger as it is.
    auto first = std::make_shared<Snapshot>(*agent->snapshot_);
    first->ledger = agent->ledgerView(agent->clock_());
    first->collectors = agent->intake_->health();
    agent->snapshot_ = std::move(first);
  }
  return agent;
}

Result<std::shared_ptr<const Tokens>> Agent::loadTokens() const {
  Tokens tokens;
  if (!config_.tokens_file.empty()) {
    auto loaded = Tokens::load(config_.tokens_file);
    if (!loaded) return loaded.error();
    tokens = std::move(*loaded);
  }
  if (!config_.api_token.empty()) {
    if (auto st = tokens.addToken("admin", Role::kAdmin, config_.api_token); !st) {
      return makeError(ErrorCode::kInvalidArgument,
                       config_.file + ": api_token: " + st.error().message +
                           " (it is the admin token, named 'admin': no token in tokens_file "
                           "may be named 'admin' or be the same token)");
    }
  }
  return std::make_shared<const Tokens>(std::move(tokens));
}

std::optional<Principal> Agent::authenticate(std::string_view token) const {
  std::shared_ptr<const Tokens> tokens;
  {
    std::lock_guard lock(tokens_mu_);
    tokens = tokens_;
  }
  return tokens ? tokens->find(token) : std::nullopt;
}

bool Agent::acceptsTokens() const {
  std::lock_guard lock(tokens_mu_);
  return tokens_ && !tokens_->empty();
}

void Agent::publishAttestations() {
  auto ev = ledger_->evidence(clock_(), config_.require_approval);
  store_.replaceFromCollector(scorer::kApiAttestationSource, std::move(ev.api), clock_());
  store_.replaceFromCollector(scorer::kAttestationSource, std::move(ev.file), clock_());
}

Status Agent::refreshAttestations() {
  const std::string& file = config_.attestations_file;
  if (file.empty()) return Status::success();
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file, ec);
  if (ec) return makeError(ErrorCode::kNotFound, file + ": cannot read attestations file");
  if (mtime == attestations_mtime_) return Status::success();
  auto records = scorer::loadAttestationFile(file, *rules(), clock_());
  if (!records) return records.error();
  logger("agent")->info("{}: {} attestations loaded", file, records->size());
  ledger_->setFileAttestations(std::move(*records), file, clock_());
  attestations_mtime_ = mtime;
  return Status::success();
}

Agent::Agent(AgentConfig config, scorer::RulePack pack)
    : config_(std::move(config)),
      pack_(std::make_shared<const scorer::RulePack>(std::move(pack))),
      tracker_(config_.regression_hysteresis),
      regressions_(std::make_shared<const std::vector<scorer::RegressionEvent>>()) {
  auto empty = std::make_shared<Snapshot>();
  empty->pack = pack_;
  empty->regressions = regressions_;
  empty->ledger = std::make_shared<const LedgerView>();
  empty->history_kept = !config_.storage_path.empty();
  snapshot_ = std::move(empty);
  // Declared system attributes never expire: they change with the config.
  store_.replaceFromCollector(
      "config", scorer::toEvidence("config", config_.system_facts, clock_(),
                                   std::chrono::duration_cast<Duration>(std::chrono::hours(24 * 365 * 100)),
                                   scorer::SourceKind::kConfig));
  declared_.insert(config_.systems.begin(), config_.systems.end());
}

PollOutcome Agent::poll(size_t index) { return intake_->poll(index); }

std::vector<PollOutcome> Agent::pollAll() {
  std::vector<PollOutcome> out;
  for (size_t i = 0; i < config_.collectors.size(); ++i) out.push_back(poll(i));
  return out;
}

bool Agent::mine(const std::string& system) const {
  // A source's default evidence (kAnySystem) is about every system, so every shard's.
  return inShard(config_.shard, system);
}

std::map<std::string, std::string> Agent::unknownTo(const std::string& system) const {
  return unknownTo(system, store_.knownBy(system));
}

std::map<std::string, std::string> Agent::unknownTo(const std::string& system,
                                                    const std::vector<std::string>& knowers) const {
  std::map<std::string, std::string> out;
  for (const auto& c : config_.collectors) {
    if (std::binary_search(knowers.begin(), knowers.end(), c.name)) continue;
    for (const auto& key : c.evidence_keys) {
      std::string& why = out[key];
      why += std::string(why.empty() ? "" : "; ") + "source " + c.name + " (" + c.type +
             ") does not know system " + system;
    }
  }
  return out;
}

bool Agent::knownToACollector(const std::string& system) const {
  auto knowers = store_.knownBy(system);
  return std::any_of(config_.collectors.begin(), config_.collectors.end(), [&](const auto& c) {
    return std::binary_search(knowers.begin(), knowers.end(), c.name);
  });
}

std::vector<std::string> Agent::knownSystems() const {
  std::set<std::string> systems;
  for (const auto& s : config_.systems) {
    if (mine(s)) systems.insert(s);
  }
  for (auto& s : store_.systems()) {
    if (mine(s)) systems.insert(s);
  }
  return {systems.begin(), systems.end()};
}

bool Agent::isKnownSystem(const std::string& system) const {
  return mine(system) && (declared_.count(system) > 0 || store_.hasSystem(system));
}

std::shared_ptr<const scorer::RulePack> Agent::rules() const {
  std::lock_guard lock(pack_mu_);
  return pack_;
}

std::shared_ptr<const Snapshot> Agent::snapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

std::set<std::string> Agent::systemsToRescore(const scorer::EvidenceStore::Changes& changes,
                                              const std::map<std::string, std::set<std::string>>& waived,
                                              TimePoint now) {
  std::set<std::string> out = changes.systems;
  // Time alone changes a system at its wake time: evidence expiring, an age() limit passed.
  while (!wakes_.empty() && wakes_.top().first <= now) {
    auto [at, system] = wakes_.top();
    wakes_.pop();
    auto s = scored_.find(system);
    if (s != scored_.end() && s->second.wake == at) out.insert(std::move(system));
  }
  // A drop waiting for hysteresis is confirmed or cancelled by scorings, changed or not.
  const auto& pending = tracker_.pendingSystems();
  out.insert(pending.begin(), pending.end());
  // Waivers asked for, decided, expired.
  auto w = waived.begin();
  auto v = waived_.begin();
  while (w != waived.end() || v != waived_.end()) {
    if (v == waived_.end() || (w != waived.end() && w->first < v->first)) {
      out.insert((w++)->first);
    } else if (w == waived.end() || v->first < w->first) {
      out.insert((v++)->first);
    } else {
      if (w->second != v->second) out.insert(w->first);
      ++w;
      ++v;
    }
  }
  return out;
}

void Agent::rescore(Scope scope) {
  std::lock_guard rescoring(rescore_mu_);
  const auto started = std::chrono::steady_clock::now();
  // The pack this scoring uses, whatever a reload does meanwhile: the snapshot keeps it.
  const std::shared_ptr<const scorer::RulePack> pack = rules();
  if (pack != scored_pack_) {
    // New rules: which keys' observation time matters, before the store compares any more.
    limits_ = scorer::TimeLimits(*pack);
    store_.setTimedKeys(limits_.timedKeys());
  }
  if (auto st = refreshAttestations(); !st) {
    logger("agent")->error("attestations not reloaded, keeping the previous ones: {}",
                           st.error().message);
  }
  TimePoint now = clock_();
  publishAttestations();  // what counts changes with time too (expiry)
  auto waived = ledger_->waived(now);
  auto waivedOf = [&](const std::string& system) -> const std::set<std::string>* {
    auto w = waived.find(system);
    return w == waived.end() ? nullptr : &w->second;
  };
  // The collectors' health as this scoring sees it: the snapshot shows the same.
  std::vector<CollectorHealth> health = intake_->health();
  std::map<std::string, bool> collector_ok;
  std::map<std::string, uint64_t> successful_polls;
  for (const auto& h : health) {
    if (h.polled) collector_ok[h.name] = h.up;
    if (h.successes) successful_polls[h.name] = h.successes;
  }
  // Every system, or only those whose evidence, attestations, waivers or time changed. All
  // after a start, on new rules, when a collector goes up or down (the stale ratio of every
  // system it knows), when a source's defaults change (they count for every system it
  // knows), and when the clock went back (wake times would be late).
  const auto changes = store_.takeChanges();
  std::set<std::string> down;  // collectors whose last poll failed: their evidence is stale
  for (const auto& [collector, ok] : collector_ok) {
    if (!ok) down.insert(collector);
  }
  const bool all = scope == Scope::kAll || pack != scored_pack_ || changes.defaults ||
                   down != scored_down_ || now < scored_now_;
  std::vector<std::string> systems;  // to score, sorted
  std::vector<std::string> removed;  // scored before, no longer known
  if (all) {
    systems = knownSystems();
    for (const auto& [system, _] : scored_) {
      if (!std::binary_search(systems.begin(), systems.end(), system)) removed.push_back(system);
    }
    wakes_ = {};
  } else {
    for (auto& system : systemsToRescore(changes, waived, now)) {
      if (isKnownSystem(system)) {
        systems.push_back(system);
      } else if (scored_.count(system)) {
        removed.push_back(system);
      }
    }
  }
  std::vector<scorer::SystemScore> scores;
  std::vector<TimePoint> wakes;
  scorer::ScoringConfig fast = config_.scoring;
  fast.explain = false;
  scorer::EvidenceIndex index;
  scores.reserve(systems.size());
  wakes.reserve(systems.size());
  // What goes beside each score in its SystemView, in the order of `scores`.
  struct Beside {
    double stale_ratio = 0;
    std::vector<std::pair<std::string, TimePoint>> attestation_expiries;
    int expired = 0, expiring = 0;
  };
  std::vector<Beside> beside;
  beside.reserve(systems.size());
  const TimePoint within_a_day = now + std::chrono::hours(24);
  for (const auto& system : systems) {
    // The system's evidence as the store holds it (no copy): its own, then the sources'
    // defaults for the keys it has none of.
    store_.visit(system, [&](const std::map<std::string, scorer::Evidence>& own,
                             const std::map<std::string, const scorer::Evidence*>& defaults) {
      // Evidence from collectors that is expired, or whose collector's last poll failed: what
      // the score rests on without it being confirmed now.
      int from_collectors = 0, stale = 0;
      Beside b;
      TimePoint wake = TimePoint::max();
      auto account = [&](const std::string& key, const scorer::Evidence& e) {
        wake = std::min(wake, limits_.next(e, now));
        const auto kind = e.source.kind;
        if ((kind == scorer::SourceKind::kAttestationFile ||
             kind == scorer::SourceKind::kAttestationApi) &&
            scorer::isAttestationKey(key)) {
          b.attestation_expiries.emplace_back(key.substr(std::string("attestation.").size()),
                                              e.expires_at);
        }
        if (!e.source.polled()) return;
        ++from_collectors;
        auto ok = collector_ok.find(e.source.collector);
        stale += e.expired(now) || (ok != collector_ok.end() && !ok->second);
        if (e.expired(now)) {
          ++b.expired;
        } else if (e.expires_at <= within_a_day) {
          ++b.expiring;
        }
      };
      for (const auto& [key, e] : own) account(key, e);
      for (const auto& [key, e] : defaults) {
        if (!own.count(key)) account(key, *e);
      }
      b.stale_ratio = from_collectors ? static_cast<double>(stale) / from_collectors : 0.0;
      beside.push_back(std::move(b));
      // The fast path: evidence by key id, no reasons (explainedScore() builds them on demand).
      scorer::buildIndex(own, defaults, &index);
      scorer::EvalContext ctx{own, now, &index, nullptr, waivedOf(system)};
      scores.push_back(scorer::scoreSystem(system, *pack, ctx, fast));
      wakes.push_back(wake);
    });
  }
  // A level drop counts as a regression once the sources behind its flipped criteria have
  // confirmed it in regression_hysteresis successful polls (a restarted source's one odd
  // answer is not a regression).
  auto polls = [&](const std::string& system, const scorer::Criterion& c) {
    std::map<std::string, uint64_t> out;
    for (const auto& key : scorer::keysOf(c)) {
      auto e = store_.find(system, key);
      if (!e || !e->source.polled()) continue;
      // A domain key several sources give rests on all of them. A collector not yet polled
      // successfully since start counts 0 polls: its evidence restored from the store is one
      // poll's word, to be confirmed like any other, not a verdict at once.
      auto count = [&](const std::string& source) {
        auto n = successful_polls.find(source);
        out[source] = n == successful_polls.end() ? 0 : n->second;
      };
      count(e->source.collector);
      for (const auto& c : e->source.contributors) count(c);
    }
    return out;
  };
  auto update = tracker_.observe(scores, now, polls);
  // A regression names why each flipped criterion fails now: explain just those.
  for (auto& r : update.regressions) {
    auto evidence = store_.snapshot(r.system);
    auto unknown_to = unknownTo(r.system);
    scorer::EvalContext ctx{evidence, now, nullptr, &unknown_to};
    for (auto& [id, reason] : r.flipped) {
      if (const auto* c = scorer::findCriterion(*pack, id)) {
        reason = scorer::evaluateCriterion(*c, ctx, true).reason;
      }
    }
  }
  for (const auto& c : update.changes) {
    if (!c.regression) {
      logger("agent")->info("{} {}: level {} -> {}{}", c.system, c.item, c.old_level, c.new_level,
                            c.new_level < c.old_level ? " (evidence unknown, not a regression)" : "");
    }
  }
  for (const auto& r : update.regressions) {
    std::string why;
    for (const auto& [id, reason] : r.flipped) why += (why.empty() ? "" : "; ") + id + ": " + reason;
    logger("agent")->warn("{} {}: regression from level {} to {}: {}", r.system, r.item,
                          r.old_level, r.new_level, why);
  }
  if (db_) {
    // Baselines a failed write did not keep stay in the tracker: written with the next ones.
    const Status recorded = db_->recordScores(scores, tracker_.changedBaselines(), now);
    if (recorded) tracker_.clearChangedBaselines();
    storeWrote(recorded, "scores");
    // Only a write that happened says whether the store can write: an empty one must not
    // clear the failure of the scores' write just before it (/-/ready would lie).
    if (!update.regressions.empty()) {
      storeWrote(db_->recordRegressions(update.regressions), "regressions");
    }
    if (now - last_prune_ > std::chrono::hours(1)) {
      if (auto st = db_->prune(now - config_.retention); !st) {
        logger("agent")->error("history not pruned: {}", st.error().message);
      }
      last_prune_ = now;
    }
  }
  // What this scoring leaves for the next one, and the snapshot readers see: a SystemView per
  // system scored now, the others' shared with the snapshot before.
  // (A scoring of every system scores every system still known: `removed` are the others.)
  for (const auto& system : removed) {
    scored_.erase(system);
    loaded_history_.erase(system);
  }
  {
    // Level changes and regressions of this scoring, by system, for the views' records.
    std::map<std::string, std::vector<const scorer::LevelChange*>> changed;
    for (const auto& c : update.changes) changed[c.system].push_back(&c);
    std::map<std::string, std::vector<const scorer::RegressionEvent*>> regressed;
    for (const auto& r : update.regressions) regressed[r.system].push_back(&r);
    const TimePoint kept_since = now - config_.retention;
    const bool history = db_ != nullptr;
    for (size_t k = 0; k < scores.size(); ++k) {
      auto view = std::make_shared<SystemView>();
      static_cast<scorer::SystemScore&>(*view) = std::move(scores[k]);
      view->stale_ratio = beside[k].stale_ratio;
      view->attestation_expiries = std::move(beside[k].attestation_expiries);
      view->evidence_expired = beside[k].expired;
      view->evidence_expiring = beside[k].expiring;
      view->records.resize(view->items.size());
      auto& entry = scored_[view->system];
      // Counters and history carry over from the system's last view, item by item (the
      // items come in the pack's order: at the same place unless the pack changed).
      const SystemView* before = entry.score.get();
      auto loaded = history ? loaded_history_.find(view->system) : loaded_history_.end();
      for (size_t i = 0; i < view->items.size(); ++i) {
        const std::string& item = view->items[i].item;
        ItemRecord& rec = view->records[i];
        if (before) {
          if (const size_t at = itemIndex(*before, item, i); at < before->items.size()) {
            rec = before->records[at];
          }
        } else if (loaded != loaded_history_.end()) {
          if (auto h = loaded->second.find(item); h != loaded->second.end()) rec.history = std::move(h->second);
        }
        if (history) {
          const int level = view->items[i].level;
          if (rec.history.empty() || rec.history.back().level != level) rec.history.push_back({now, level});
          // Within the retention, as the store keeps it.
          auto keep = std::find_if(rec.history.begin(), rec.history.end(),
                                   [&](const LevelAt& l) { return l.at >= kept_since; });
          rec.history.erase(rec.history.begin(), keep);
        }
      }
      if (loaded != loaded_history_.end()) loaded_history_.erase(loaded);
      auto recordOf = [&](const std::string& item) -> ItemRecord* {
        const size_t at = itemIndex(*view, item);
        return at < view->items.size() ? &view->records[at] : nullptr;
      };
      if (auto c = changed.find(view->system); c != changed.end()) {
        for (const auto* change : c->second) {
          if (auto* rec = recordOf(change->item)) rec->level_changed = change->at;
        }
      }
      if (auto r = regressed.find(view->system); r != regressed.end()) {
        for (const auto* reg : r->second) {
          if (auto* rec = recordOf(reg->item)) ++rec->regressions;
        }
      }
      entry.score = std::move(view);
      entry.wake = wakes[k];
      if (wakes[k] != TimePoint::max()) wakes_.emplace(wakes[k], entry.score->system);
    }
  }
  scored_pack_ = pack;
  scored_down_ = std::move(down);
  scored_now_ = now;
  waived_ = std::move(waived);
  if (!update.regressions.empty()) {
    auto all_regressions = std::make_shared<std::vector<scorer::RegressionEvent>>(*regressions_);
    for (auto& r : update.regressions) all_regressions->push_back(std::move(r));
    if (all_regressions->size() > 1000) {
      all_regressions->erase(all_regressions->begin(), all_regressions->end() - 1000);
    }
    regressions_ = std::move(all_regressions);
  }
  auto snap = std::make_shared<Snapshot>();
  snap->pack = pack;
  snap->scores.reserve(scored_.size());
  for (const auto& [_, entry] : scored_) snap->scores.push_back(entry.score);
  snap->regressions = regressions_;
  snap->ledger = ledgerView(now);
  snap->collectors = std::move(health);
  snap->scoring.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  snap->scoring.rescored = scores.size();
  snap->scoring.count = ++scorings_;
  snap->store_errors = store_health_.errors();
  snap->history_kept = db_ != nullptr;
  snap->evidence_epoch = changes.epoch;
  snap->scored_at = now;
  snap->generation = ++generation_;
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = std::move(snap);
}

std::shared_ptr<const LedgerView> Agent::ledgerView(TimePoint now) const {
  auto view = std::make_shared<LedgerView>();
  view->records = ledger_->records();
  for (const auto& a : view->records->attestations) {
    const std::string state = scorer::effectiveState(a, now);
    ++view->attestation_states[state];
    if ((state == "pending" || state == "approved") &&
        (a.document_status == "changed" || a.document_status == "missing") && mine(a.system)) {
      view->flagged_documents.push_back({a.system, a.criterion, a.document_status});
    }
  }
  std::sort(view->flagged_documents.begin(), view->flagged_documents.end());
  view->flagged_documents.erase(
      std::unique(view->flagged_documents.begin(), view->flagged_documents.end()),
      view->flagged_documents.end());
  for (const auto& x : view->records->waivers) {
    ++view->waiver_states[effectiveState(x, now)];
    if (inForce(x, now) && mine(x.system)) view->waiver_expiries[{x.system, x.criterion}] = x.expires;
  }
  return view;
}

Ledger::OpenRecords LedgerView::openRecords(const std::string& system, TimePoint now) const {
  if (!records) return {};
  return Ledger::openRecords(*records, system, now);
}

const SystemView* Snapshot::find(std::string_view system) const {
  auto it = std::lower_bound(scores.begin(), scores.end(), system,
                             [](const auto& s, std::string_view name) { return s->system < name; });
  return it != scores.end() && (*it)->system == system ? it->get() : nullptr;
}

Status Agent::reload(const std::string& actor) {
  auto pack = scorer::loadRulePack(config_.rules_dir);
  if (!pack) return pack.error();
  if (pack->items.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     config_.rules_dir + ": the rule pack has no item rule files");
  }
  if (!config_.attestations_file.empty()) {
    auto att = scorer::loadAttestationFile(config_.attestations_file, *pack, clock_());
    if (!att) return att.error();
  }
  auto tokens = loadTokens();
  if (!tokens) return tokens.error();
  const size_t items = pack->items.size();
  {
    // The regression baseline survives a reload for the criteria whose rules did not change:
    // reloading (even in a loop) cannot hide a real regression, and what new rules decide is
    // never counted as one. Scores published before keep the pack they point into.
    std::lock_guard rescoring(rescore_mu_);
    auto next = std::make_shared<const scorer::RulePack>(std::move(*pack));
    tracker_.carryOver(*rules(), *next);
    std::lock_guard lock(pack_mu_);
    pack_ = std::move(next);
    attestations_mtime_ = {};
  }
  {
    std::lock_guard lock(tokens_mu_);
    tokens_ = std::move(*tokens);
  }
  rescore();
  storeWrote(ledger_->audit(actor, "reload",
                            "rule pack " + config_.rules_dir + " (" +
                                std::to_string(items) + " items), attestations and "
                                "tokens",
                            clock_()),
             "audit log");
  logger("agent")->info("{} reloaded the rule pack ({} items), attestations and tokens", actor,
                        items);
  return Status::success();
}

namespace {

Error storeFailed(const Error& e) {
  // The writer learns it was not kept, not where the store is.
  return makeError(ErrorCode::kIo, "not stored; nothing was changed (see the agent's log): " +
                                       std::string(e.code == ErrorCode::kIo ? "store error"
                                                                            : e.message));
}

}  // namespace

Result<std::vector<scorer::Attestation>> Agent::addAttestations(
    std::vector<scorer::Attestation> records, const Principal& who) {
  if (records.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "request body: no attestation in it");
  }
  // Only for systems the agent scores: a typo must not make a phantom system kept for good.
  for (const auto& a : records) {
    if (a.attested_by != who.name) {
      return makeError(ErrorCode::kInvalidArgument,
                       "request body: attested_by: an attestation through the API is made by "
                       "the token's holder (" + who.name + ")");
    }
    if (!isKnownSystem(a.system)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "request body: system '" + a.system +
                           "' is not a system this agent scores (declared in its config or "
                           "reported by a source)");
    }
  }
  auto added = ledger_->attest(std::move(records), who, clock_());
  if (!added) {
    storeWrote(added.error(), "attestations");
    return storeFailed(added.error());
  }
  storeWrote(Status::success(), "attestations");
  logger("agent")->info("{}: {} attestation(s) received through the API", who.name,
                        added->size());
  rescore();
  return added;
}

Result<scorer::Attestation> Agent::decideAttestation(int64_t id, Ledger::Decision decision,
                                                     const Principal& who,
                                                     const std::string& comment) {
  auto decided = ledger_->decideAttestation(id, decision, who, comment, clock_());
  if (!decided) {
    if (decided.error().code != ErrorCode::kIo) return decided.error();
    storeWrote(decided.error(), "attestation decision");
    return storeFailed(decided.error());
  }
  logger("agent")->info("{}: attestation #{} ({} {}) {}", who.name, id, decided->system,
                        decided->criterion, decided->state);
  rescore();
  return decided;
}

Result<Waiver> Agent::addWaiver(Waiver waiver, const Principal& who) {
  std::optional<Waiver> parsed(std::move(waiver));
  if (!isKnownSystem(parsed->system)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "request body: system '" + parsed->system +
                         "' is not a system this agent scores");
  }
  auto added = ledger_->requestWaiver(std::move(*parsed), who, clock_());
  if (!added) {
    storeWrote(added.error(), "waiver");
    return storeFailed(added.error());
  }
  logger("agent")->info("{}: waiver #{} asked for ({} {})", who.name, added->id, added->system,
                        added->criterion);
  // Published before the answer, as every write: a pending waiver is on /metrics in the same
  // generation as in the API.
  rescore();
  return added;
}

Result<Waiver> Agent::decideWaiver(int64_t id, Ledger::Decision decision, const Principal& who,
                                   const std::string& comment) {
  auto decided = ledger_->decideWaiver(id, decision, who, comment, clock_());
  if (!decided) {
    if (decided.error().code != ErrorCode::kIo) return decided.error();
    storeWrote(decided.error(), "waiver decision");
    return storeFailed(decided.error());
  }
  logger("agent")->info("{}: waiver #{} ({} {}) {}", who.name, id, decided->system,
                        decided->criterion, decided->state);
  rescore();
  return decided;
}

size_t Agent::checkDocuments() {
  const TimePoint now = clock_();
  size_t checked = 0;
  for (const auto& a : ledger_->attestations()) {
    if (!a.id) continue;  // the file's: their record is the file
    const std::string state = scorer::effectiveState(a, now);
    if (state != "pending" && state != "approved") continue;
    if (a.document_checked_at != TimePoint{} &&
        now - a.document_checked_at < config_.document_check_interval) {
      continue;
    }
    auto found = checkDocument(a.document, a.document_sha256, config_.document_roots,
                               config_.document_hosts, std::chrono::seconds(10));
    storeWrote(ledger_->recordDocumentCheck(a.id, found.sha256, found.status, found.detail,
                                            clock_()),
               "document check");
    if (found.status != a.document_status) {
      logger("agent")->log(found.status == "ok" || found.status == "not_fetched"
                               ? spdlog::level::info
                               : spdlog::level::warn,
                           "attestation #{} ({} {}): document {}: {}", a.id, a.system,
                           a.criterion, found.status, redactSecrets(found.detail));
    }
    ++checked;
  }
  return checked;
}

std::optional<ExplainedScore> Agent::explainedScore(const std::string& system) {
  // A poll that changed the system after the snapshot was scored: score it, then explain the
  // snapshot that holds it (a source that changes it faster than it can be scored gets three
  // tries, then the last snapshot with the evidence of now: said in the log).
  for (int attempt = 0;; ++attempt) {
    const auto snap = snapshot();
    if (!snap->find(system)) {
      // Not scored yet (a system a poll just reported, or before the first scoring).
      if (attempt >= 3 || !isKnownSystem(system)) return std::nullopt;
      rescore();
      continue;
    }
    auto scored = store_.unchangedSince(system, snap->evidence_epoch);
    if (!scored && attempt < 3) {
      rescore();
      continue;
    }
    if (!scored) {
      logger("agent")->warn("{}: its evidence changes faster than it is scored; explained on the "
                            "evidence of now against generation {}",
                            system, snap->generation);
      scored = scorer::EvidenceStore::Scored{store_.snapshot(system), store_.knownBy(system)};
    }
    auto unknown_to = unknownTo(system, scored->known_by);
    auto waived = Ledger::waived(snap->ledger->records->waivers, snap->scored_at)[system];
    scorer::EvalContext ctx{scored->evidence, snap->scored_at, nullptr, &unknown_to, &waived};
    ExplainedScore out;
    out.pack = snap->pack;
    out.snapshot = snap;
    out.generation = snap->generation;
    static_cast<scorer::SystemScore&>(out) = scorer::scoreSystem(system, *out.pack, ctx, config_.scoring);
    out.evidence = std::move(scored->evidence);
    return out;
  }
}

}  // namespace opsm::agent
