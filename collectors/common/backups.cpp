#include "collectors/common/backups.h"

#include <algorithm>

#include "common/yaml_util.h"

namespace opsm::collectors {

void BackupTally::add(const std::string& system, TimePoint at) {
  Entry& e = by_system_[system];
  e.newest = e.count == 0 ? at : std::max(e.newest, at);
  e.oldest = e.count == 0 ? at : std::min(e.oldest, at);
  ++e.count;
}

void BackupTally::facts(const std::string& prefix, const std::string& count_key, TimePoint now,
                        const std::string& locator, std::vector<scorer::Fact>* out) const {
  auto age = [&](TimePoint at) { return std::max(0.0, toSeconds(now) - toSeconds(at)); };
  for (const auto& [system, e] : by_system_) {
    out->push_back(scorer::Fact{prefix + count_key, system, e.count, locator});
    if (e.count == 0) continue;
    out->push_back(scorer::Fact{prefix + "newest_age_seconds", system, age(e.newest), locator});
    out->push_back(scorer::Fact{prefix + "oldest_age_seconds", system, age(e.oldest), locator});
  }
}

std::vector<ConfigKey> repositoryKeys(const std::string& program, const std::string& repository_what,
                                      bool check_default, const std::string& check_what,
                                      const std::string& owner_key, const std::string& owner_what) {
  return {
      stringKey("repository", repository_what).isRequired().nonEmpty(),
      stringKey("system", "Every backup in the repository is this system's.").nonEmpty(),
      stringKey(owner_key, owner_what).nonEmpty(),
      boolKey("check", check_what).defaults(check_default ? "true" : "false"),
      stringKey("command", "The " + program + " program (found on PATH when a bare name).")
          .defaults(program)
          .nonEmpty(),
  };
}

ConfigConstraint repositoryOwner(const std::string& owner_key, const std::string& one_of) {
  return {{"system", owner_key}, true, one_of};
}

}  // namespace opsm::collectors
