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

Result<RepositoryKeys> readRepositoryKeys(const std::string& file, const YAML::Node& node,
                                          const std::string& owner_key,
                                          const std::string& one_of,
                                          const std::string& program, bool check_default) {
  RepositoryKeys k;
  auto repo = readString(file, node, "repository");
  if (!repo) return repo.error();
  if (repo->empty()) return fieldError(file, node, "repository", "is required");
  k.repository = *repo;
  auto system = readString(file, node, "system");
  if (!system) return system.error();
  auto owner = readString(file, node, owner_key);
  if (!owner) return owner.error();
  if (system->empty() == owner->empty()) return fieldError(file, node, "system", one_of);
  k.system = *system;
  k.owner = *owner;
  auto check = readBool(file, node, "check", check_default);
  if (!check) return check.error();
  k.check = *check;
  auto cmd = readString(file, node, "command", program);
  if (!cmd) return cmd.error();
  k.command = *cmd;
  return k;
}

}  // namespace opsm::collectors
