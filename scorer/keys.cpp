#include "scorer/keys.h"

#include "scorer/evidence.h"

#include <mutex>
#include <unordered_map>

namespace opsm::scorer {

namespace {
std::mutex g_mu;
std::unordered_map<std::string, int>& ids() {
  static std::unordered_map<std::string, int> m;
  return m;
}
}  // namespace

int internKey(const std::string& key) {
  std::lock_guard lock(g_mu);
  auto [it, added] = ids().emplace(key, static_cast<int>(ids().size()));
  return it->second;
}

int findKeyId(const std::string& key) {
  std::lock_guard lock(g_mu);
  auto it = ids().find(key);
  return it == ids().end() ? -1 : it->second;
}

namespace {

IndexEntry entryOf(const Evidence& e) {
  return IndexEntry{
      &e, std::chrono::duration_cast<std::chrono::nanoseconds>(e.expires_at.time_since_epoch()).count(),
      e.value.isBool() && e.value.asBool()};
}

}  // namespace

void buildIndex(const std::map<std::string, Evidence>& evidence, EvidenceIndex* index) {
  buildIndex(evidence, {}, index);
}

void buildIndex(const std::map<std::string, Evidence>& evidence,
                const std::map<std::string, const Evidence*>& defaults, EvidenceIndex* index) {
  std::lock_guard lock(g_mu);
  index->assign(ids().size(), IndexEntry{});
  for (const auto& [key, e] : evidence) {
    auto found = ids().find(key);
    if (found != ids().end()) (*index)[found->second] = entryOf(e);
  }
  for (const auto& [key, e] : defaults) {
    auto found = ids().find(key);
    if (found != ids().end() && !(*index)[found->second].evidence) (*index)[found->second] = entryOf(*e);
  }
}

size_t internedKeyCount() {
  std::lock_guard lock(g_mu);
  return ids().size();
}

}  // namespace opsm::scorer
