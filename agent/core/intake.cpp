#include "agent/core/intake.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/secrets.h"
#include "scorer/domain.h"

namespace opsm::agent {

bool inShard(const AgentConfig::Shard& shard, const std::string& system) {
  return shard.count <= 1 || system == scorer::kAnySystem ||
         shardOf(system, shard.count) == shard.index;
}

void StoreHealth::wrote(const Status& st, const char* what) {
  if (st) {
    ok_ = true;
    return;
  }
  ok_ = false;
  ++errors_;
  logger("agent")->error("{} not stored durably: {}", what, st.error().message);
}

Intake::Intake(AgentConfig& config, scorer::EvidenceStore& store, Store* db,
               StoreHealth& store_health, std::function<TimePoint()> clock)
    : config_(config), store_(store), db_(db), store_health_(store_health), clock_(std::move(clock)) {
  declared_.insert(config.systems.begin(), config.systems.end());
  for (auto& c : config.collectors) {
    collectors_.push_back(std::move(c.collector));
    CollectorHealth h;
    h.name = c.name;
    h.type = c.type;
    health_.push_back(std::move(h));
    if (!c.systems_from.empty()) store_.setSystemsFrom(c.name, c.systems_from);
  }
}

std::vector<CollectorHealth> Intake::health() const {
  std::lock_guard lock(health_mu_);
  return health_;
}

PollOutcome Intake::poll(size_t index) {
  const CollectorEntry& entry = config_.collectors.at(index);
  PollOutcome out;
  out.collector = entry.name;
  collectors::CollectContext ctx;
  ctx.now = clock_();
  ctx.deadline = std::chrono::steady_clock::now() + entry.timeout;
  auto started = std::chrono::steady_clock::now();
  Result<std::vector<scorer::Fact>> facts = makeError(ErrorCode::kInternal, "not polled");
  try {
    facts = collectors_.at(index)->collect(ctx);
  } catch (const std::exception& e) {
    // A collector bug is a failed poll, never a crashed agent.
    facts = makeError(ErrorCode::kInternal, entry.name + ": unexpected error: " + e.what());
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (facts) {
    // A name a source sends that breaks the rule for system names (control characters,
    // invalid UTF-8, overlong) would break /metrics and the API: its facts are dropped.
    size_t dropped = 0;
    std::string example;
    std::erase_if(*facts, [&](const scorer::Fact& f) {
      if (f.system == scorer::kAnySystem || scorer::isValidSystemName(f.system)) return false;
      if (example.empty()) scorer::isValidSystemName(f.system, &example);
      ++dropped;
      return true;
    });
    if (dropped) {
      logger("collector")->warn("{}: {} facts dropped: a system name it sent {}", entry.name,
                                dropped, example);
    }
    // A configured secret a source echoes (a token in a target label, say) must not become a
    // system name or a stored value: such facts are dropped, and values redacted.
    dropped = std::erase_if(*facts, [](const scorer::Fact& f) { return holdsSecret(f.system); });
    if (dropped) {
      logger("collector")->warn(
          "{}: {} facts dropped: a system name it sent holds a configured secret", entry.name,
          dropped);
    }
    auto needs = [](const std::string& s) { return needsRedaction(s); };
    for (auto& f : *facts) {
      if (needs(f.locator)) f.locator = redactSecrets(std::move(f.locator));
      if (f.value.type() == scorer::ValueType::kString && needs(f.value.asString())) {
        f.value = scorer::Value(redactSecrets(f.value.asString()));
      } else if (f.value.type() == scorer::ValueType::kList &&
                 std::any_of(f.value.asList().begin(), f.value.asList().end(), needs)) {
        scorer::StringList list = f.value.asList();
        for (auto& e : list) e = redactSecrets(std::move(e));
        f.value = scorer::Value(std::move(list));
      }
    }
    std::set<std::string> systems;
    for (const auto& f : *facts) {
      if (f.system != scorer::kAnySystem) systems.insert(f.system);
    }
    out.systems = systems.size();
    size_t undeclared = 0;
    for (const auto& s : systems) undeclared += !declared_.count(s);
    if (undeclared > static_cast<size_t>(entry.max_systems)) {
      facts = makeError(ErrorCode::kBadResponse,
                        entry.name + " reported " + std::to_string(undeclared) +
                            " systems the config does not declare, more than its max_systems (" +
                            std::to_string(entry.max_systems) +
                            "); poll refused, previous evidence kept. Raise max_systems if the "
                            "estate is that large, or check the source's system mapping");
    } else if (systems.empty()) {
      out.warning =
          entry.name + " (" + entry.type + ") matched no system" +
          (entry.systems_from.empty()
               ? ": check its system mapping (a label, tag or field that none of what it sees "
                 "carries?); its evidence counts for no system"
               : " itself; its defaults count for the systems of " + entry.systems_from.front() +
                     (entry.systems_from.size() > 1 ? " and others" : ""));
    }
  }
  if (facts && config_.shard.count > 1) {
    // Another agent of the fleet scores the other systems: do not even store their evidence.
    std::erase_if(*facts, [&](const scorer::Fact& f) { return !inShard(config_.shard, f.system); });
  }
  if (facts) {
    out.ok = true;
    out.facts = facts->size();
    auto evidence = scorer::toEvidence(entry.name, std::move(*facts), ctx.now, entry.ttl);
    // Domain keys (scorer/domain.h) are derived from the vendor keys, here and again on every
    // restore: the durable store keeps only what the source reported.
    const size_t reported = evidence.size();
    scorer::deriveDomainEvidence(entry.domain_of, &evidence);
    if (!config_.evidence_ttl.empty()) {
      auto override_of = [&](const std::string& k) -> const Duration* {
        for (const auto& [key, ttl] : config_.evidence_ttl) {
          bool prefix = !key.empty() && key.back() == '.';
          if (prefix ? k.rfind(key, 0) == 0 : k == key) return &ttl;
        }
        return nullptr;
      };
      for (auto& e : evidence) {
        // a derived domain key: its own override, else its vendor key's
        const Duration* ttl = override_of(e.key);
        if (!ttl && !e.source.via.empty()) ttl = override_of(e.source.via);
        if (ttl) e.expires_at = e.observed_at + *ttl;
      }
    }
    if (db_) {
      std::vector<scorer::Evidence> stored(evidence.begin(), evidence.begin() + reported);
      store_health_.wrote(db_->replaceEvidence(entry.name, stored), "evidence");
    }
    store_.replaceFromCollector(entry.name, std::move(evidence), clock_());
    logger("collector")->debug("{}: {} facts of {} systems in {:.3f}s", entry.name, out.facts,
                               out.systems, out.seconds);
    // A warning is said when it starts (first poll, or the collector matched systems
    // before), then at debug level: opsmaturity_collector_systems keeps showing it.
    bool starts = true;
    {
      std::lock_guard lock(health_mu_);
      const CollectorHealth& h = health_.at(index);
      starts = h.successes == 0 || h.systems > 0;
    }
    if (!out.warning.empty()) {
      logger("collector")->log(starts ? spdlog::level::warn : spdlog::level::debug, "{}",
                               out.warning);
    }
  } else {
    out.error = redactSecrets(facts.error().describe());
    out.timed_out = facts.error().code == ErrorCode::kTimeout ||
                    std::chrono::steady_clock::now() >= ctx.deadline;
    logger("collector")->warn("{}: poll failed, keeping previous evidence: {}", entry.name,
                              out.error);
  }
  {
    std::lock_guard lock(health_mu_);
    CollectorHealth& h = health_.at(index);
    h.polled = true;
    h.up = out.ok;
    h.timed_out = out.timed_out;
    h.duration_seconds = out.seconds;
    if (out.ok) {
      h.last_success = clock_();
      h.facts = out.facts;
      h.systems = out.systems;
      ++h.successes;
      h.error.clear();
      h.warning = out.warning;
    } else {
      ++h.failures;
      h.error = out.error;
    }
  }
  return out;
}

}  // namespace opsm::agent
