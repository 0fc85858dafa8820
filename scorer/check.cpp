#include "scorer/check.h"

#include "scorer/operators.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/yaml_util.h"
#include "scorer/standard_text.h"

namespace opsm::scorer {

namespace fs = std::filesystem;
using Kind = Condition::Kind;
using Op = Condition::Op;
using Selector = Condition::Selector;

void conditionKeys(const Condition& c, std::vector<std::string>* keys) {
  if (!c.key.empty()) keys->push_back(c.key);
  for (const auto& child : c.children) conditionKeys(child, keys);
}

namespace {

// Why `op` cannot apply to evidence of type `type`, or "" when it can.
std::string typeMismatch(const Condition& c, ValueType type) {
  auto is = [&](std::initializer_list<ValueType> ok) {
    return std::find(ok.begin(), ok.end(), type) != ok.end();
  };
  if (c.kind == Kind::kExists || c.selector == Selector::kAge) return "";
  if (c.selector == Selector::kLength) {
    return is({ValueType::kList, ValueType::kString}) ? "" : "len() needs a list or string key";
  }
  const Operator& op = operatorOf(c.op);
  std::string needs;
  if (takes(op, type, c.literal, &needs)) return "";
  if (op.takes == Operator::Takes::kLiteralsType) {
    return std::string("compares a ") + valueTypeName(type) + " key with a " +
           valueTypeName(c.literal.type());
  }
  if (op.ordering) return "ordering needs a number key";
  return "'" + std::string(op.name) + "' needs " + needs + " key";
}

// A rule that names a vendor key passes only for systems that vendor's tool watches: the
// shipped rules name domain keys (scorer/domain.h), which any tool of the kind can give.
std::string vendorKeyWarning(const EvidenceKeySpec& spec) {
  if (spec.is_domain || spec.producer == "agent" || spec.isNamespace()) return "";
  return spec.key + " is a vendor key of " + spec.producer + "; name " +
         (spec.domain.empty() ? "a domain key (docs/evidence-catalog.md)"
                              : "the domain key " + spec.domain) +
         " so that other tools of the kind count too";
}

void checkCondition(const std::string& file, const Condition& c, const EvidenceCatalog& catalog,
                    std::vector<Problem>* out) {
  for (const auto& child : c.children) checkCondition(file, child, catalog, out);
  if (c.kind != Kind::kCompare && c.kind != Kind::kExists) return;
  std::string where = file + ":" + std::to_string(c.line);
  if (isAttestationKey(c.key)) {
    out->push_back({where, "condition references attestation key " + c.key +
                               "; use 'attestation:' on the criterion instead"});
    return;
  }
  const EvidenceKeySpec* spec = catalog.find(c.key);
  if (!spec) {
    out->push_back({where, "evidence key " + c.key + " is produced by no known collector"});
    return;
  }
  if (std::string w = vendorKeyWarning(*spec); !w.empty()) out->push_back({where, w, true});
  if (spec->isNamespace()) return;  // plugin facts: any type
  if (std::string why = typeMismatch(c, spec->type); !why.empty()) {
    out->push_back({where, c.source_text + ": " + c.key + " is a " + valueTypeName(spec->type) +
                               " (from " + spec->producer + "): " + why});
  }
}

void checkAgainstStandard(const std::string& standard_path, const std::vector<ItemRules>& items,
                          std::vector<Problem>* out) {
  auto standard = parseStandardText(standard_path);
  if (!standard) {
    out->push_back({standard_path, standard.error().message});
    return;
  }
  for (const auto& s : *standard) {
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const ItemRules& r) { return r.item == s.id; });
    if (it == items.end()) continue;  // reported as a missing item already
    for (int l = 1; l <= kLevels; ++l) {
      const StandardLevel& want = s.levels[l - 1];
      const LevelRules& have = it->levels[l - 1];
      std::string level_where = it->file;
      if (want.same_as_previous != have.same_as_previous) {
        out->push_back({level_where, s.id + " level " + std::to_string(l) +
                                         (want.same_as_previous
                                              ? ": the standard says 同 4 级; use {same_as: 4}"
                                              : ": the standard lists requirements, not 同 4 级")});
        continue;
      }
      for (size_t n = 0; n < want.requirements.size(); ++n) {
        std::string id = s.id + "/L" + std::to_string(l) + "/" + std::to_string(n + 1);
        auto c = std::find_if(have.criteria.begin(), have.criteria.end(),
                              [&](const Criterion& x) { return x.id == id; });
        if (c == have.criteria.end()) {
          out->push_back({level_where, "requirement " + id + " of the standard has no criterion: " +
                                           want.requirements[n]});
        } else if (c->zh != want.requirements[n]) {
          out->push_back({c->file + ":" + std::to_string(c->line),
                          id + ": zh differs from the standard's wording \"" +
                              want.requirements[n] + "\""});
        }
      }
      for (const auto& c : have.criteria) {
        auto n = std::stoul(c.id.substr(c.id.rfind('/') + 1));
        if (n < 1 || n > want.requirements.size()) {
          out->push_back({c.file + ":" + std::to_string(c.line),
                          c.id + " matches no numbered requirement of the standard (level " +
                              std::to_string(l) + " has " +
                              std::to_string(want.requirements.size()) + ")"});
        }
      }
    }
  }
}

}  // namespace

std::vector<Problem> checkRulePack(const std::string& dir, const EvidenceCatalog& catalog,
                                   const std::string& standard_path) {
  std::vector<Problem> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {{dir, "rules directory not found"}};
  auto model = loadModel((fs::path(dir) / "model.yaml").string());
  if (!model) return {{(fs::path(dir) / "model.yaml").string(), model.error().message}};

  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto p = e.path();
    if (e.is_regular_file() && (p.extension() == ".yaml" || p.extension() == ".yml") &&
        p.filename() != "model.yaml") {
      files.push_back(p.string());
    }
  }
  std::sort(files.begin(), files.end());

  std::vector<ItemRules> items;
  std::map<std::string, std::string> item_file;
  for (const auto& f : files) {
    auto r = loadItemRules(f, *model);
    if (!r) {
      // Errors carry "file:line: ..." already.
      const std::string& msg = r.error().message;
      auto colon = msg.find(": ");
      out.push_back({msg.substr(0, colon), colon == std::string::npos ? msg : msg.substr(colon + 2)});
      // The file is there, only broken: do not also report its item as missing.
      if (auto yaml = loadYamlFile(f); yaml && yaml->IsMap() && (*yaml)["item"].IsScalar()) {
        item_file.emplace((*yaml)["item"].Scalar(), f);
      }
      continue;
    }
    if (auto [it, fresh] = item_file.emplace(r->item, f); !fresh) {
      out.push_back({f, "item " + r->item + " is already defined in " + it->second});
      continue;
    }
    if (r->applies_to) checkCondition(f, *r->applies_to, catalog, &out);
    for (const auto& level : r->levels) {
      for (const auto& c : level.criteria) {
        if (c.when) checkCondition(f, *c.when, catalog, &out);
        if (c.applies_to) checkCondition(f, *c.applies_to, catalog, &out);
        std::string where = f + ":" + std::to_string(c.line);
        if (c.dimensions == 0) {
          out.push_back({where, c.id + ": `dimensions:` names none of people, process, tools "
                                       "(the standard's 组织人员, 流程规范, 工具平台, §5)"});
        }
        if (c.when && c.rationale.empty()) {
          out.push_back({where, c.id + ": a `when` needs a one-line `rationale:` saying why that "
                                       "evidence shows the requirement"});
        }
        for (const auto& h : c.hints) {
          const EvidenceKeySpec* spec = catalog.find(h);
          if (!spec) {
            out.push_back({where, c.id + ": hint " + h + " is produced by no known collector"});
          } else if (std::string w = vendorKeyWarning(*spec); !w.empty()) {
            out.push_back({where, c.id + ": hint " + w, true});
          }
        }
      }
    }
    items.push_back(std::move(*r));
  }
  for (const auto& info : model->items) {
    if (!item_file.count(info.id)) {
      out.push_back({dir, "item " + info.id + " " + info.zh + " (" + info.en + ") has no rule file"});
    }
  }
  if (!standard_path.empty()) checkAgainstStandard(standard_path, items, &out);
  return out;
}

}  // namespace opsm::scorer
