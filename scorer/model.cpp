#include "scorer/model.h"

#include <set>

#include "common/yaml_util.h"

namespace opsm::scorer {

const ItemInfo* Model::findItem(const std::string& id) const {
  for (const auto& i : items) {
    if (i.id == id) return &i;
  }
  return nullptr;
}

const DomainInfo* Model::findDomain(const std::string& id) const {
  for (const auto& d : domains) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

namespace {

Result<std::string> requireString(const std::string& file, const YAML::Node& map,
                                  std::string_view key) {
  auto s = readString(file, map, key);
  if (!s) return s.error();
  if (s->empty()) return fieldError(file, map, key, "is required");
  return s;
}

}  // namespace

namespace {

Result<Model> loadModelImpl(const std::string& path) {
  auto root = loadYamlFile(path);
  if (!root) return root.error();
  if (auto st = checkKeys(path, *root, {"levels", "domains"}, "model"); !st) return st.error();

  Model model;
  YAML::Node levels = (*root)["levels"];
  if (!levels.IsSequence() || levels.size() != kLevels) {
    return fieldError(path, levels.IsDefined() ? levels : *root, "levels",
                      "must list exactly 5 levels");
  }
  for (const auto& l : levels) {
    if (auto st = checkKeys(path, l, {"level", "zh", "en"}, "level"); !st) return st.error();
    auto n = readNumber(path, l, "level", 0);
    if (!n) return n.error();
    if (*n != static_cast<double>(model.levels.size() + 1)) {
      return fieldError(path, l, "level", "levels must be numbered 1..5 in order");
    }
    auto zh = requireString(path, l, "zh");
    if (!zh) return zh.error();
    auto en = requireString(path, l, "en");
    if (!en) return en.error();
    model.levels.push_back(LevelInfo{static_cast<int>(*n), *zh, *en});
  }

  YAML::Node domains = (*root)["domains"];
  if (!domains.IsSequence() || domains.size() == 0) {
    return fieldError(path, domains.IsDefined() ? domains : *root, "domains",
                      "must be a non-empty list");
  }
  std::set<std::string> seen;
  for (const auto& d : domains) {
    if (auto st = checkKeys(path, d, {"id", "zh", "en", "items"}, "domain"); !st) {
      return st.error();
    }
    DomainInfo info;
    auto id = requireString(path, d, "id");
    if (!id) return id.error();
    auto zh = requireString(path, d, "zh");
    if (!zh) return zh.error();
    auto en = requireString(path, d, "en");
    if (!en) return en.error();
    info.id = *id;
    info.zh = *zh;
    info.en = *en;
    if (!seen.insert(info.id).second) return fieldError(path, d, "id", "duplicate id " + info.id);
    YAML::Node items = d["items"];
    if (!items.IsSequence() || items.size() == 0) {
      return fieldError(path, d, "items", "must be a non-empty list");
    }
    for (const auto& it : items) {
      if (auto st = checkKeys(path, it, {"id", "zh", "en"}, "item"); !st) return st.error();
      auto iid = requireString(path, it, "id");
      if (!iid) return iid.error();
      auto izh = requireString(path, it, "zh");
      if (!izh) return izh.error();
      auto ien = requireString(path, it, "en");
      if (!ien) return ien.error();
      if (iid->rfind(info.id + ".", 0) != 0) {
        return fieldError(path, it, "id", "item " + *iid + " is not numbered under domain " +
                                              info.id);
      }
      if (!seen.insert(*iid).second) return fieldError(path, it, "id", "duplicate id " + *iid);
      info.items.push_back(*iid);
      model.items.push_back(ItemInfo{*iid, info.id, *izh, *ien});
    }
    model.domains.push_back(std::move(info));
  }
  return model;
}

}  // namespace

Result<Model> loadModel(const std::string& path) {
  return guardYaml(path, [&] { return loadModelImpl(path); });
}

}  // namespace opsm::scorer
