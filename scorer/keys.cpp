#include "scorer/keys.h"

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

size_t internedKeyCount() {
  std::lock_guard lock(g_mu);
  return ids().size();
}

}  // namespace opsm::scorer
