#include "collectors/git/git_collector.h"

#include <algorithm>
#include <sstream>

#include "collectors/common/http_config.h"
#include "common/yaml_util.h"

namespace opsm::collectors::git {

namespace {

constexpr const char* kPrefix = "change.git.";

}  // namespace

Result<std::vector<scorer::Fact>> GitCollector::collect(const CollectContext& ctx) {
  const std::vector<std::string> base{"-C", config_.repository, "-c",
                                      "safe.directory=" + config_.repository};
  auto git = [&](std::vector<std::string> args) {
    std::vector<std::string> all = base;
    all.insert(all.end(), args.begin(), args.end());
    return runTool(config_.tool, all, ctx);
  };
  long long now = static_cast<long long>(toSeconds(ctx.now));
  long long since = now - static_cast<long long>(toSeconds(config_.window));
  // One line per commit: committer time, parent count marker, subject.
  auto log = git({"log", "--no-color", "--format=%ct%x09%p%x09%s", config_.ref});
  if (!log) return log.error();
  int commits = 0, merges = 0, reverts = 0;
  long long newest = -1;
  std::istringstream in(*log);
  std::string line;
  while (std::getline(in, line)) {
    auto t1 = line.find('\t');
    auto t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    long long at = 0;
    try {
      at = std::stoll(line.substr(0, t1));
    } catch (const std::exception&) {
      continue;
    }
    newest = std::max(newest, at);
    if (at < since) continue;
    ++commits;
    std::string parents = line.substr(t1 + 1, t2 - t1 - 1);
    if (parents.find(' ') != std::string::npos) ++merges;
    std::string subject = line.substr(t2 + 1);
    if (subject.rfind("Revert \"", 0) == 0) ++reverts;
  }
  auto tags = git({"for-each-ref", "--format=%(creatordate:unix)", "refs/tags"});
  if (!tags) return tags.error();
  int recent_tags = 0, all_tags = 0;
  std::istringstream tin(*tags);
  while (std::getline(tin, line)) {
    if (line.empty()) continue;
    ++all_tags;
    try {
      if (std::stoll(line) >= since) ++recent_tags;
    } catch (const std::exception&) {
    }
  }
  const std::string loc = "git log " + config_.ref;
  std::vector<scorer::Fact> facts;
  auto add = [&](const char* key, scorer::Value v, const std::string& l) {
    facts.push_back(scorer::Fact{kPrefix + std::string(key), config_.system, std::move(v), l});
  };
  add("commits", commits, loc);
  add("merges", merges, loc);
  add("reverts", reverts, loc);
  if (commits > 0) add("revert_ratio", static_cast<double>(reverts) / commits, loc);
  if (commits > 0) add("merge_ratio", static_cast<double>(merges) / commits, loc);
  if (newest >= 0) add("last_commit_age_seconds", static_cast<double>(std::max(0LL, now - newest)), loc);
  add("tags", recent_tags, "git for-each-ref refs/tags");
  add("tags_total", all_tags, "git for-each-ref refs/tags");
  return facts;
}

namespace {

class GitFactory : public CollectorFactory {
 public:
  std::string type() const override { return "git"; }

  std::vector<scorer::EvidenceKeySpec> evidenceKeys() const override {
    using scorer::ValueType;
    return describeKeys(kPrefix, type(), {
        {"commits", ValueType::kNumber, "Commits reachable from `ref` committed within the window (default 30d).",
         "change.commits"},
        {"merges", ValueType::kNumber, "Merge commits (two or more parents) within the window: changes that went through a merge (request)."},
        {"reverts", ValueType::kNumber, "Commits within the window whose subject starts with `Revert \"` (git revert): rolled-back changes."},
        {"revert_ratio", ValueType::kNumber, "reverts / commits within the window (absent without commits)."},
        {"merge_ratio", ValueType::kNumber, "merges / commits within the window (absent without commits)."},
        {"last_commit_age_seconds", ValueType::kNumber, "Seconds since the newest commit reachable from `ref`."},
        {"tags", ValueType::kNumber, "Tags (releases) created within the window."},
        {"tags_total", ValueType::kNumber, "All tags in the repository."},
    });
  }

  ConfigSchema configSchema() const override {
    return ConfigSchema(
        "git",
        {
            stringKey("system", "The system whose changes the repository holds.").isRequired().nonEmpty(),
            stringKey("repository", "A local clone (keep it fresh with a cron `git fetch`).")
                .isRequired()
                .nonEmpty(),
            stringKey("ref", "The branch, tag or commit whose history is read.").defaults("HEAD"),
            durationKey("window", "Commits younger than this count.").defaults("30d").isPositive(),
            stringKey("command", "The git program.").defaults("git").nonEmpty(),
        });
  }

  Result<std::unique_ptr<Collector>> build(const ConfigReader& cfg) const override {
    GitConfig c;
    c.name = cfg.name();
    c.system = cfg.string("system");
    c.repository = cfg.string("repository");
    c.ref = cfg.string("ref");
    if (c.ref.empty() || c.ref.front() == '-') {
      return cfg.error("ref", "must be a branch, tag or commit name");
    }
    c.window = cfg.duration("window");
    c.tool.program = cfg.string("command");
    // No pager, no prompts, no system or user config changing what git prints.
    c.tool.env = {{"GIT_PAGER", "cat"}, {"GIT_TERMINAL_PROMPT", "0"}, {"GIT_CONFIG_NOSYSTEM", "1"},
                  {"LC_ALL", "C"}};
    c.tool.unset_env = {"GIT_DIR", "GIT_WORK_TREE"};
    return std::unique_ptr<Collector>(std::make_unique<GitCollector>(std::move(c)));
  }
};

}  // namespace

Status registerGit(Registry& registry) { return registry.add(std::make_unique<GitFactory>()); }

}  // namespace opsm::collectors::git
