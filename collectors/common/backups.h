#pragma once

#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "collectors/config_schema.h"
#include "common/duration.h"
#include "common/result.h"
#include "scorer/evidence.h"

namespace opsm::collectors {

// What the backup collectors (restic, borg, pgBackRest) share: the backups of each system found
// in one repository, the facts made of them, and the config keys that say whose backups are
// whose.
class BackupTally {
 public:
  struct Entry {
    int count = 0;
    TimePoint newest{}, oldest{};
  };
  // A backup of `system` made at `at`.
  void add(const std::string& system, TimePoint at);
  // `system` has an entry even without a backup: 0 backups is evidence too.
  void known(const std::string& system) { by_system_[system]; }
  const std::map<std::string, Entry>& bySystem() const { return by_system_; }
  // Per system, at `locator`: `<prefix><count_key>`, and when it has backups
  // `<prefix>newest_age_seconds` and `<prefix>oldest_age_seconds` (how far back a restore can
  // go), as ages at `now`.
  void facts(const std::string& prefix, const std::string& count_key, TimePoint now,
             const std::string& locator, std::vector<scorer::Fact>* out) const;

 private:
  std::map<std::string, Entry> by_system_;
};

// The config keys of a backup repository collector: `repository` (required), `command` (the
// program to run, default `program`), `check` (default `check_default`: `check_what` says what
// it runs), `system` (every backup is that system's) or `owner_key` (how a backup names its
// system, `owner_what`), exactly one of the two.
std::vector<ConfigKey> repositoryKeys(const std::string& program, const std::string& repository_what,
                                      bool check_default, const std::string& check_what,
                                      const std::string& owner_key, const std::string& owner_what);
ConfigConstraint repositoryOwner(const std::string& owner_key, const std::string& one_of);

}  // namespace opsm::collectors
