// Incremental scoring (Agent::rescore with Scope::kChanged) against scoring every system
// (Scope::kAll): two agents with the same config, the same sources and the same clock, one
// scoring incrementally and one scoring everything, must publish the same scores, regressions,
// metrics and history after every step of a long random sequence of polls (values changed,
// systems appearing and vanishing, defaults, failed polls), clock advances (evidence expiring,
// age() limits passing), waivers and attestations. Then targeted tests that incremental
// scoring is incremental: a poll that changes nothing rescores nothing.
//
// The sources are a test collector type ("scripted") registered in the test's registry: it
// returns what the test put in its script, or fails when told to.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "tests/support/requests.h"
#include "agent/core/agent.h"
#include "agent/exposition/metrics.h"
#include "tests/support/drill_pack.h"
#include "tests/support/temp_dir.h"

namespace opsm::agent {
namespace {

// What each scripted collector reports, by collector name: facts by (system, key), or a failure.
struct Script {
  std::map<std::pair<std::string, std::string>, scorer::Value> facts;
  bool fail = false;
};
std::map<std::string, Script>& scripts() {
  static std::map<std::string, Script> s;
  return s;
}

class ScriptedCollector : public collectors::Collector {
 public:
  explicit ScriptedCollector(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Result<std::vector<scorer::Fact>> collect(const collectors::CollectContext&) override {
    const Script& s = scripts()[name_];
    if (s.fail) return makeError(ErrorCode::kUnavailable, name_ + ": down (scripted)");
    std::vector<scorer::Fact> out;
    for (const auto& [at, value] : s.facts) out.push_back({at.second, at.first, value, "script"});
    return out;
  }

 private:
  std::string name_;
};

class ScriptedFactory : public collectors::CollectorFactory {
 public:
  std::string type() const override { return "scripted"; }
  collectors::ConfigSchema configSchema() const override { return {"scripted", {}}; }
  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override { return {}; }

 protected:
  Result<std::unique_ptr<collectors::Collector>> build(
      const collectors::ConfigReader& config) const override {
    return std::unique_ptr<collectors::Collector>(std::make_unique<ScriptedCollector>(config.name()));
  }
};

// The drill pack (6.7.4/L1/1 decided by plugin.drill.last_report_age_seconds) with an age()
// limit added to it: the report must also have been seen within 20 minutes.
std::string agePack(const testing::TempDir& dir) {
  const auto rules = testing::drillRulePack(dir);
  testing::replaceInFile(
      std::filesystem::path(rules) / "6.7.4-emergency-drills.yaml",
      "      when: {key: plugin.drill.last_report_age_seconds, le: 31622400}\n",
      "      when: {all: [{key: plugin.drill.last_report_age_seconds, le: 31622400},\n"
      "                   {age: plugin.drill.last_report_age_seconds, lt: 20m}]}\n");
  return rules;
}

// opsmaturity_rescored_systems of the agent's /metrics: how many systems its last scoring
// scored; -1 if the series is missing.
int rescoredSystems(const Agent& agent) {
  const auto text = renderMetrics(agent);
  const auto at = text.find("\nopsmaturity_rescored_systems ");
  return at == std::string::npos ? -1 : std::stoi(text.substr(at + 30));
}

// The keys the pack's criteria decide on, and plugin.drill.*.
std::vector<std::string> packKeys(const scorer::RulePack& pack) {
  std::set<std::string> keys;
  for (const auto& item : pack.items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        if (c.attestation) continue;
        for (const auto& k : scorer::keysOf(c)) keys.insert(k);
      }
    }
  }
  return {keys.begin(), keys.end()};
}

class IncrementalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scripts().clear();
    ASSERT_TRUE(collectors::registerAll(registry_).ok());
    ASSERT_TRUE(registry_.add(std::make_unique<ScriptedFactory>()).ok());
    rules_ = agePack(dir_);
  }

  std::unique_ptr<Agent> start(const std::string& name) {
    auto config = loadConfig(
        dir_.write(name + ".yml",
                   "rules_dir: " + rules_ + "\nstorage_path: " + name + ".db\n"
                   "regression_hysteresis: 2\nexport_item_progress: true\n"
                   "systems: [declared, 支付]\n"
                   "collectors:\n"
                   "  - {name: a, type: scripted, ttl: 10m}\n"
                   "  - {name: b, type: scripted, ttl: 2h}\n"
                   "  - {name: c, type: scripted, ttl: 1h, systems_from: [a]}\n"),
        registry_);
    if (!config) {
      ADD_FAILURE() << config.error().message;
      return nullptr;
    }
    auto a = Agent::create(std::move(*config));
    if (!a) {
      ADD_FAILURE() << a.error().message;
      return nullptr;
    }
    (*a)->setClock([this] { return now_; });
    return std::move(*a);
  }

  // The metrics text without what differs between two agents doing the same: timings, and
  // how many systems a scoring rescored.
  static std::string comparable(const std::string& metrics) {
    std::istringstream in(metrics);
    std::string line, out;
    while (std::getline(in, line)) {
      if (line.find("duration_seconds") != std::string::npos ||
          line.find("opsmaturity_rescored_systems") != std::string::npos) {
        continue;
      }
      out += line + "\n";
    }
    return out;
  }

  static std::string describe(const Agent& agent) {
    std::string out;
    for (const auto& s : agent.snapshot()->scores) {
      out += s->system + " " + std::to_string(s->level) + " " + std::to_string(s->progress) + " " +
             std::to_string(s->level_with_waivers) + "\n";
      for (const auto& i : s->items) {
        out += "  " + i.item + " " + std::to_string(i.level) + " " + std::to_string(i.progress) +
               (i.applicable ? "" : " n/a") + " " + std::to_string(i.level_with_waivers) + ":";
        for (const auto& c : i.criteria) {
          out += " " + std::to_string(static_cast<int>(c.state)) + (c.waived ? "w" : "");
        }
        out += "\n";
      }
    }
    for (const auto& r : *agent.snapshot()->regressions) {
      out += "regression " + r.system + " " + r.item + " " + std::to_string(r.old_level) + "->" +
             std::to_string(r.new_level) + " at " + formatTime(r.at);
      for (const auto& [id, why] : r.flipped) out += " " + id + ": " + why;
      out += "\n";
    }
    return out;
  }

  void expectSame(const Agent& incremental, const Agent& full, const std::string& step) {
    const std::string a = describe(incremental), b = describe(full);
    ASSERT_EQ(a, b) << step;
    {
      const std::string a = comparable(renderMetrics(incremental)), b = comparable(renderMetrics(full));
      if (a != b) {
        std::istringstream ia(a), ib(b);
        std::string la, lb;
        while (std::getline(ia, la) && std::getline(ib, lb)) {
          if (la != lb) {
            ADD_FAILURE() << step << ": incremental " << la << "\n full " << lb;
            break;
          }
        }
      }
      ASSERT_TRUE(a == b) << step;
    }
  }

  collectors::Registry registry_;
  testing::TempDir dir_;
  std::string rules_;
  TimePoint now_ = Clock::now();
};

TEST_F(IncrementalTest, ScoresTheSameAsScoringEverySystemAtEveryStep) {
  auto inc = start("incremental");
  auto all = start("full");
  ASSERT_TRUE(inc && all);
  auto keys = packKeys(*inc->rules());
  keys.push_back("plugin.drill.last_report_age_seconds");
  const std::vector<std::string> systems = {"declared", "支付", "payments", "billing", "crm",
                                            "ledger & co", "hr"};
  const std::vector<scorer::Value> values = {true, false, 0, 1, 3, 0.95, 100.0, 31622400.0 * 2,
                                             std::string("x"), scorer::StringList{"a", "b"}};
  const std::vector<std::string> collectors = {"a", "b", "c"};
  const std::vector<Duration> advances = {std::chrono::seconds(1), std::chrono::seconds(30),
                                          std::chrono::minutes(5), std::chrono::minutes(15),
                                          std::chrono::hours(1), std::chrono::hours(50)};
  std::mt19937 rng(20261202);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const Principal li{"li.wei", Role::kAttester}, wang{"wang.fang", Role::kApprover};
  int waivers = 0, attestations = 0, rescored_fewer = 0;

  for (int step = 0; step < 400; ++step) {
    const std::string where = "step " + std::to_string(step);
    const int op = static_cast<int>(pick(20));
    const std::string& collector = collectors[pick(collectors.size())];
    Script& script = scripts()[collector];
    if (op < 6) {
      // Change what a source says of a system: a value, or the key goes.
      const std::string& system = collector == "c" && pick(3) == 0 ? scorer::kAnySystem
                                                                  : systems[pick(systems.size())];
      const std::string& key = keys[pick(keys.size())];
      if (pick(4) == 0) {
        script.facts.erase({system, key});
      } else {
        script.facts[{system, key}] = values[pick(values.size())];
      }
      if (key == "plugin.drill.last_report_age_seconds" || pick(2) == 0) {
        script.facts[{system, "plugin.drill.last_report_age_seconds"}] = pick(2) ? 100.0 : 1e9;
      }
    } else if (op == 6) {
      // A system vanishes from a source.
      const std::string& system = systems[pick(systems.size())];
      std::erase_if(script.facts, [&](const auto& f) { return f.first.first == system; });
    } else if (op == 7) {
      script.fail = !script.fail;
    } else if (op < 12) {
      now_ += advances[pick(advances.size())];
    } else if (op == 12 && waivers < 12) {
      // A waiver of a criterion of a system, approved, for 1 to 3 days.
      const auto known = inc->knownSystems();
      const std::string system = known[pick(known.size())];
      const std::string criterion = pick(2) ? "6.7.4/L1/1" : "6.7.4/L1/2";
      const std::string body = "{\"system\": \"" + system + "\", \"criterion\": \"" + criterion +
                               "\", \"justification\": \"drill postponed by the audit\", "
                               "\"risk\": \"low\", \"expires\": \"" +
                               formatTime(now_ + std::chrono::hours(24 * (1 + pick(3)))).substr(0, 10) +
                               "\"}";
      for (Agent* a : {inc.get(), all.get()}) {
        auto w = testing::askWaiver(*a, body, li);
        ASSERT_TRUE(w) << w.error().message;
        ASSERT_TRUE(a->decideWaiver(w->id, Ledger::Decision::kApprove, wang, "ok"));
      }
      ++waivers;
    } else if (op == 13 && attestations < 12) {
      const auto known = inc->knownSystems();
      const std::string system = known[pick(known.size())];
      const std::string body = "{\"system\": \"" + system +
                               "\", \"criterion\": \"6.7.4/L1/2\", \"document\": "
                               "\"https://wiki.example.com/crisis-org\", \"date\": \"" +
                               formatTime(now_ - std::chrono::hours(24 * 360)).substr(0, 10) +
                               "\", \"met\": " + (pick(3) ? "true" : "false") + "}";
      for (Agent* a : {inc.get(), all.get()}) {
        auto made = testing::attest(*a, body, li);
        ASSERT_TRUE(made) << made.error().message;
        ASSERT_EQ(made->size(), 1u);
        ASSERT_TRUE(a->decideAttestation(made->front().id, Ledger::Decision::kApprove, wang, ""));
      }
      ++attestations;
    } else {
      // A poll of one source, by both agents.
      const size_t index = static_cast<size_t>(&collector - collectors.data());
      ASSERT_EQ(inc->poll(index).ok, all->poll(index).ok) << where;
    }
    inc->rescore();
    all->rescore(Agent::Scope::kAll);
    expectSame(*inc, *all, where);
    const int rescored = rescoredSystems(*inc);
    ASSERT_GE(rescored, 0);
    rescored_fewer += rescored < static_cast<int>(inc->snapshot()->scores.size());
  }
  // The sequence did what it is for: scorings that left systems alone, waivers, attestations.
  EXPECT_GT(rescored_fewer, 100);
  EXPECT_GT(waivers, 3);
  EXPECT_GT(attestations, 3);

  // Then a regression, confirmed by hysteresis while nothing else changes: "declared" reaches
  // level 1 of 6.7.4 (a recent drill, an approved attestation), then its drill fails in two
  // polls of its source.
  scripts()["b"].fail = false;
  scripts()["b"].facts[{"declared", "plugin.drill.last_report_age_seconds"}] = 100.0;
  // (Attested twice: the second renews the first, the same verdict with a later expiry.)
  for (int days : {3, 1}) {
    for (Agent* a : {inc.get(), all.get()}) {
      auto made = testing::attest(*a, 
          "{\"system\": \"declared\", \"criterion\": \"6.7.4/L1/2\", \"document\": "
          "\"https://wiki.example.com/crisis-org\", \"date\": \"" +
              formatTime(now_ - std::chrono::hours(24 * days)).substr(0, 10) + "\"}",
          li);
      ASSERT_TRUE(made) << made.error().message;
      ASSERT_TRUE(a->decideAttestation(made->front().id, Ledger::Decision::kApprove, wang, ""));
      a->rescore(a == inc.get() ? Agent::Scope::kChanged : Agent::Scope::kAll);
    }
    expectSame(*inc, *all, "attested " + std::to_string(days) + " days ago");
  }
  auto level = [](const Agent& a) {
    for (const auto& s : a.snapshot()->scores) {
      for (const auto& i : s->items) {
        if (s->system == "declared" && i.item == "6.7.4") return i.level;
      }
    }
    return -1;
  };
  for (int poll = 0; poll < 4; ++poll) {
    if (poll == 2) scripts()["b"].facts[{"declared", "plugin.drill.last_report_age_seconds"}] = 1e9;
    now_ += std::chrono::seconds(30);
    ASSERT_TRUE(inc->poll(1).ok && all->poll(1).ok);
    inc->rescore();
    all->rescore(Agent::Scope::kAll);
    expectSame(*inc, *all, "regression, poll " + std::to_string(poll));
    if (poll == 1) {
      ASSERT_EQ(level(*inc), 1);
    }
    for (int idle = 0; idle < 2; ++idle) {  // scorings with nothing new: the drop still waits
      inc->rescore();
      all->rescore(Agent::Scope::kAll);
      expectSame(*inc, *all, "regression, idle after poll " + std::to_string(poll));
    }
  }
  EXPECT_EQ(level(*inc), 0);
  ASSERT_FALSE(inc->regressions().empty());
  EXPECT_EQ(inc->regressions().back().system, "declared");
  EXPECT_EQ(inc->regressions().back().item, "6.7.4");
  // The history written is the same too.
  auto a = inc->durableStore()->loadHistory("");
  auto b = all->durableStore()->loadHistory("");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->size(), b->size());
  for (size_t k = 0; k < a->size(); ++k) {
    EXPECT_EQ((*a)[k].system + (*a)[k].item + std::to_string((*a)[k].level),
              (*b)[k].system + (*b)[k].item + std::to_string((*b)[k].level));
  }
}

TEST_F(IncrementalTest, APollThatChangesNothingRescoresNoSystemOneChangeRescoresOne) {
  auto agent = start("agent");
  ASSERT_TRUE(agent);
  for (const std::string system : {"payments", "billing", "crm"}) {
    scripts()["b"].facts[{system, "system.has_cache"}] = false;
  }
  auto rescored = [&] { return rescoredSystems(*agent); };
  ASSERT_TRUE(agent->poll(1).ok);
  agent->rescore();
  EXPECT_EQ(agent->snapshot()->scores.size(), 5u);  // declared, 支付 and the three polled
  EXPECT_EQ(rescored(), 5);                         // the first scoring scores all

  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent->poll(1).ok);  // the same values again
  agent->rescore();
  EXPECT_EQ(rescored(), 0);

  now_ += std::chrono::minutes(1);
  scripts()["b"].facts[{"crm", "system.has_cache"}] = true;
  ASSERT_TRUE(agent->poll(1).ok);
  const auto before = agent->snapshot();
  agent->rescore();
  EXPECT_EQ(rescored(), 1);
  const auto after = agent->snapshot();
  // The systems not rescored share their score with the snapshot before.
  ASSERT_EQ(before->scores.size(), after->scores.size());
  for (size_t k = 0; k < after->scores.size(); ++k) {
    EXPECT_EQ(before->scores[k] == after->scores[k], after->scores[k]->system != "crm")
        << after->scores[k]->system;
  }

  // A key an age() condition reads: a re-poll with the same value changes the system (its
  // age starts again), and 20 minutes after the last poll the limit passes with no poll at
  // all: payments and billing are rescored and their drill criterion fails.
  for (const std::string system : {"payments", "billing"}) {
    scripts()["c"].facts[{system, "plugin.drill.last_report_age_seconds"}] = 100.0;
  }
  ASSERT_TRUE(agent->poll(2).ok);
  agent->rescore();
  EXPECT_EQ(rescored(), 2);
  now_ += std::chrono::minutes(1);
  ASSERT_TRUE(agent->poll(2).ok);
  agent->rescore();
  EXPECT_EQ(rescored(), 2);
  now_ += std::chrono::minutes(19);
  agent->rescore();
  EXPECT_EQ(rescored(), 0);  // 19 minutes: not yet
  now_ += std::chrono::minutes(1);
  agent->rescore();
  EXPECT_EQ(rescored(), 2);
  for (const auto& s : agent->snapshot()->scores) {
    for (const auto& i : s->items) {
      if (i.item != "6.7.4") continue;
      for (const auto& c : i.criteria) {
        if (c.criterion->id != "6.7.4/L1/1") continue;
        EXPECT_EQ(c.state, s->system == "payments" || s->system == "billing"
                               ? scorer::CriterionState::kFail
                               : scorer::CriterionState::kUnknown)
            << s->system;
      }
    }
  }
  // A collector going down changes every system's stale ratio: all are rescored.
  scripts()["b"].fail = true;
  EXPECT_FALSE(agent->poll(1).ok);
  agent->rescore();
  EXPECT_EQ(rescored(), 5);
}

}  // namespace
}  // namespace opsm::agent
