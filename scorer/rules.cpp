#include "scorer/rules.h"

#include "scorer/operators.h"

#include "common/regex.h"

#include "scorer/keys.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/yaml_util.h"

namespace opsm::scorer {

namespace fs = std::filesystem;
using Op = Condition::Op;
using Kind = Condition::Kind;
using Selector = Condition::Selector;

const char* opName(Op op) { return operatorOf(op).name; }

const ItemRules* RulePack::findItem(const std::string& id) const {
  for (const auto& i : items) {
    if (i.item == id) return &i;
  }
  return nullptr;
}

const Criterion* findCriterion(const RulePack& pack, const std::string& id) {
  for (const auto& item : pack.items) {
    for (const auto& level : item.levels) {
      for (const auto& c : level.criteria) {
        if (c.id == id) return &c;
      }
    }
  }
  return nullptr;
}

std::string attestationKey(const std::string& criterion_id) {
  return "attestation." + criterion_id;
}

std::string documentKey(const std::string& criterion_id) { return "document." + criterion_id; }

namespace {

int lineOf(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

// A plain YAML scalar becomes bool, number or string; a quoted one is always a string.
Value scalarValue(const YAML::Node& n) {
  if (n.Tag() != "!") {
    bool b = false;
    if (YAML::convert<bool>::decode(n, b)) return Value(b);
    double d = 0;
    if (YAML::convert<double>::decode(n, d)) return Value(d);
  }
  return Value(n.Scalar());
}

bool isKeyName(const std::string& k) {
  if (k.empty() || k.front() == '.' || k.back() == '.') return false;
  return std::all_of(k.begin(), k.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/';
  });
}

Result<Condition> compileList(const std::string& file, const YAML::Node& node, Kind kind,
                              const char* name) {
  YAML::Node list = node[name];
  if (!list.IsSequence() || list.size() == 0) {
    return fieldError(file, list, name, "must be a non-empty list of conditions");
  }
  Condition c;
  c.kind = kind;
  c.line = lineOf(node);
  for (const auto& child : list) {
    auto cc = compileCondition(file, child);
    if (!cc) return cc.error();
    c.children.push_back(std::move(*cc));
  }
  return c;
}

}  // namespace

Result<Condition> compileCondition(const std::string& file, const YAML::Node& node) {
  if (!node.IsMap() || node.size() == 0) {
    return fieldError(file, node, "condition",
                      "must be a mapping such as {key: K, ge: 1}, {all: [...]}, {any: [...]}, "
                      "{any_known: [...]}, "
                      "{not: ...}, {exists: K}");
  }
  if (node["all"]) {
    if (node.size() != 1) return fieldError(file, node, "all", "must stand alone in its mapping");
    return compileList(file, node, Kind::kAll, "all");
  }
  if (node["any"]) {
    if (node.size() != 1) return fieldError(file, node, "any", "must stand alone in its mapping");
    return compileList(file, node, Kind::kAny, "any");
  }
  if (node["any_known"]) {
    if (node.size() != 1) {
      return fieldError(file, node, "any_known", "must stand alone in its mapping");
    }
    return compileList(file, node, Kind::kAnyKnown, "any_known");
  }
  if (node["not"]) {
    if (node.size() != 1) return fieldError(file, node, "not", "must stand alone in its mapping");
    auto child = compileCondition(file, node["not"]);
    if (!child) return child.error();
    Condition c;
    c.kind = Kind::kNot;
    c.line = lineOf(node);
    c.children.push_back(std::move(*child));
    return c;
  }
  if (node["exists"]) {
    if (node.size() != 1) {
      return fieldError(file, node, "exists", "must stand alone in its mapping");
    }
    YAML::Node k = node["exists"];
    if (!k.IsScalar() || !isKeyName(k.Scalar())) {
      return fieldError(file, k, "exists", "must be an evidence key such as a.b.c");
    }
    Condition c;
    c.kind = Kind::kExists;
    c.key = k.Scalar();
    c.key_id = internKey(c.key);
    c.line = lineOf(node);
    c.source_text = "exists(" + c.key + ")";
    return c;
  }

  // A comparison: exactly one selector and exactly one operator.
  Condition c;
  c.kind = Kind::kCompare;
  c.line = lineOf(node);
  const char* selector_name = nullptr;
  int selectors = 0;
  for (auto [name, sel] : {std::pair{"key", Selector::kValue}, std::pair{"len", Selector::kLength},
                           std::pair{"age", Selector::kAge}}) {
    if (node[name]) {
      ++selectors;
      selector_name = name;
      c.selector = sel;
    }
  }
  if (selectors != 1) {
    return fieldError(file, node, "condition",
                      "a comparison needs exactly one of 'key', 'len' or 'age'; other forms are "
                      "'all', 'any', 'not', 'exists'");
  }
  YAML::Node key = node[selector_name];
  if (!key.IsScalar() || !isKeyName(key.Scalar())) {
    return fieldError(file, key, selector_name, "must be an evidence key such as a.b.c");
  }
  c.key = key.Scalar();
  c.key_id = internKey(c.key);

  // The operators a comparison may use, as the table names them (scorer/operators.cpp).
  std::string allowed;
  for (const auto& o : operators()) allowed += std::string(allowed.empty() ? "" : ", ") + o.name;
  const Operator* op = nullptr;
  YAML::Node rhs;
  for (const auto& kv : node) {
    std::string k = kv.first.Scalar();
    if (k == selector_name) continue;
    const Operator* found = operatorNamed(k);
    if (!found) return fieldError(file, kv.first, k, "unknown operator (allowed: " + allowed + ")");
    if (op) return fieldError(file, kv.first, k, "a comparison takes exactly one operator");
    op = found;
    rhs = kv.second;
  }
  if (!op) {
    return fieldError(file, node, selector_name, "comparison has no operator (" + allowed + ")");
  }
  c.op = op->op;
  const std::string op_field = op->name;
  if (op->key_only && c.selector != Selector::kValue) {
    return fieldError(file, rhs, op_field, "'" + op_field + "' applies to 'key' only");
  }
  if (c.selector == Selector::kAge && !op->ordering) {
    return fieldError(file, rhs, op_field, "'age' compares with lt, le, gt or ge only");
  }
  if (op->operand == Operator::Operand::kScalarList) {
    if (!rhs.IsSequence() || rhs.size() == 0) {
      return fieldError(file, rhs, op_field, "must be a non-empty list");
    }
    StringList items;
    for (const auto& v : rhs) {
      if (!v.IsScalar()) return fieldError(file, v, op_field, "list items must be scalars");
      items.push_back(v.Scalar());
    }
    c.literal = Value(std::move(items));
  } else {
    if (!rhs.IsScalar()) return fieldError(file, rhs, op_field, "must be a single value");
    if (c.selector == Selector::kAge) {
      auto d = parseDuration(rhs.Scalar());
      if (!d) return fieldError(file, rhs, op_field, d.error().message);
      c.literal = Value(toSeconds(*d));
    } else if (op->operand == Operator::Operand::kString) {
      c.literal = Value(rhs.Scalar());
    } else if (op->operand == Operator::Operand::kRegex) {
      auto re = Regex::compile(rhs.Scalar());
      if (!re) return fieldError(file, rhs, op_field, re.error().message);
      c.re = std::make_shared<const Regex>(std::move(*re));
      c.literal = Value(rhs.Scalar());
    } else {
      c.literal = scalarValue(rhs);
      if ((op->operand == Operator::Operand::kNumber || c.selector == Selector::kLength) &&
          !c.literal.isNumber()) {
        return fieldError(file, rhs, op_field, "must be a number");
      }
    }
  }

  std::string lhs = c.selector == Selector::kValue    ? c.key
                    : c.selector == Selector::kLength ? "len(" + c.key + ")"
                                                      : "age(" + c.key + ")";
  std::string rhs_text = c.selector == Selector::kAge ? rhs.Scalar() : c.literal.toString();
  c.source_text = lhs + " " + operatorOf(c.op).symbol + " " + rhs_text;
  return c;
}

const char* dimensionName(Dimension d) {
  switch (d) {
    case Dimension::kPeople:
      return "people";
    case Dimension::kProcess:
      return "process";
    case Dimension::kTools:
      return "tools";
  }
  return "process";
}

std::optional<Dimension> dimensionOf(std::string_view name) {
  for (int i = 0; i < kDimensions; ++i) {
    if (name == dimensionName(static_cast<Dimension>(i))) return static_cast<Dimension>(i);
  }
  return std::nullopt;
}

namespace {

Result<Criterion> compileCriterion(const std::string& file, const YAML::Node& node, int level,
                                   const std::string& item) {
  if (auto st = checkKeys(file, node,
                          {"id", "zh", "en", "dimensions", "when", "attestation", "applies_to",
                           "rationale", "hints", "floor_of"},
                          "criterion");
      !st) {
    return st.error();
  }
  Criterion c;
  c.file = file;
  c.line = lineOf(node);
  c.level = level;
  for (auto [field, dest] : {std::pair{"id", &c.id}, std::pair{"zh", &c.zh},
                             std::pair{"en", &c.en}}) {
    auto s = readString(file, node, field);
    if (!s) return s.error();
    if (s->empty()) return fieldError(file, node, field, "is required");
    *dest = *s;
  }
  std::string prefix = item + "/L" + std::to_string(level) + "/";
  if (c.id.rfind(prefix, 0) != 0 || c.id.size() == prefix.size()) {
    return fieldError(file, node["id"], "id",
                      "'" + c.id + "' must be of the form " + prefix + "<n> (item " + item +
                          ", level " + std::to_string(level) + ")");
  }
  if (YAML::Node att = node["attestation"]; att.IsDefined() && !att.IsNull()) {
    // `attestation: true`, or `attestation: {document: ..., max_age: 365d}`.
    if (att.IsMap()) {
      if (auto st = checkKeys(file, att, {"document", "max_age"}, "attestation"); !st) {
        return st.error();
      }
      auto doc = readString(file, att, "document");
      if (!doc) return doc.error();
      auto age = readDuration(file, att, "max_age", c.attestation_max_age);
      if (!age) return age.error();
      if (age->count() <= 0) return fieldError(file, att["max_age"], "max_age", "must be positive");
      c.attestation = true;
      c.attestation_document = *doc;
      c.attestation_max_age = *age;
    } else {
      auto flag = readBool(file, node, "attestation", false);
      if (!flag) return fieldError(file, att, "attestation",
                                   "must be true or a mapping {document: ..., max_age: ...}");
      c.attestation = *flag;
    }
  }
  if (node["when"]) {
    auto w = compileCondition(file, node["when"]);
    if (!w) return w.error();
    c.when = std::move(*w);
  }
  if (!c.attestation && !c.when) {
    return fieldError(file, node, "when",
                      "criterion " + c.id +
                          " needs 'when' (a condition), 'attestation: true', or both (evidenced "
                          "or attested)");
  }
  if (node["applies_to"]) {
    auto a = compileCondition(file, node["applies_to"]);
    if (!a) return a.error();
    c.applies_to = std::move(*a);
  }
  auto rationale = readString(file, node, "rationale", "");
  if (!rationale) return rationale.error();
  c.rationale = *rationale;
  if (YAML::Node dims = node["dimensions"]) {
    if (!dims.IsSequence() || dims.size() == 0) {
      return fieldError(file, dims, "dimensions",
                        "must list one or more of people, process, tools (the standard's "
                        "组织人员, 流程规范, 工具平台)");
    }
    for (const auto& d : dims) {
      auto dim = dimensionOf(d.IsScalar() ? d.Scalar() : "");
      if (!dim) {
        return fieldError(file, d, "dimensions",
                          "'" + (d.IsScalar() ? d.Scalar() : std::string()) +
                              "' is not people, process or tools");
      }
      c.dimensions |= 1u << static_cast<unsigned>(*dim);
    }
  }
  if (YAML::Node hints = node["hints"]) {
    if (!c.attestation) {
      return fieldError(file, hints, "hints",
                        "only an attestation criterion has hints (a `when` is the evidence)");
    }
    if (!hints.IsSequence()) return fieldError(file, hints, "hints", "must be a list of evidence keys");
    for (const auto& h : hints) {
      if (!h.IsScalar() || !isKeyName(h.Scalar())) {
        return fieldError(file, h, "hints", "'" + (h.IsScalar() ? h.Scalar() : std::string()) +
                                                "' is not an evidence key");
      }
      c.hints.push_back(h.Scalar());
    }
  }
  auto floor = readString(file, node, "floor_of", "");
  if (!floor) return floor.error();
  c.floor_of = *floor;
  if (!c.floor_of.empty() && level != 1) {
    return fieldError(file, node["floor_of"], "floor_of", "only a level-1 criterion is a floor");
  }
  if (c.attestation) {
    c.attestation_key = attestationKey(c.id);
    c.attestation_key_id = internKey(c.attestation_key);
    c.document_key = documentKey(c.id);
    c.document_key_id = internKey(c.document_key);
  }
  return c;
}

}  // namespace

namespace {

Result<ItemRules> loadItemRulesImpl(const std::string& file, const Model& model) {
  auto root = loadYamlFile(file);
  if (!root) return root.error();
  if (auto st = checkKeys(file, *root, {"item", "applies_to", "levels"}, "rule file"); !st) {
    return st.error();
  }
  auto item_id = readString(file, *root, "item");
  if (!item_id) return item_id.error();
  if (item_id->empty()) return fieldError(file, *root, "item", "is required");
  const ItemInfo* info = model.findItem(*item_id);
  if (!info) {
    return fieldError(file, (*root)["item"], "item",
                      "'" + *item_id + "' is not an item of the model");
  }
  ItemRules rules;
  rules.item = info->id;
  rules.domain = info->domain;
  rules.file = file;
  if ((*root)["applies_to"]) {
    auto a = compileCondition(file, (*root)["applies_to"]);
    if (!a) return a.error();
    rules.applies_to = std::move(*a);
  }

  YAML::Node levels = (*root)["levels"];
  if (!levels.IsMap()) {
    return fieldError(file, levels.IsDefined() ? levels : *root, "levels",
                      "must be a mapping from level (1..5) to a list of criteria");
  }
  std::array<bool, kLevels> present{};
  std::set<std::string> ids;
  for (const auto& kv : levels) {
    int level = 0;
    if (!YAML::convert<int>::decode(kv.first, level) || level < 1 || level > kLevels) {
      return fieldError(file, kv.first, "levels",
                        "'" + kv.first.Scalar() + "' is not a level (1..5)");
    }
    if (present[level - 1]) {
      return fieldError(file, kv.first, "levels", "level " + std::to_string(level) + " twice");
    }
    present[level - 1] = true;
    LevelRules& lr = rules.levels[level - 1];
    lr.level = level;
    const YAML::Node& body = kv.second;
    if (body.IsMap()) {
      // {same_as: 4}: "同 4 级", the level adds no requirement of its own.
      if (auto st = checkKeys(file, body, {"same_as"}, "level"); !st) return st.error();
      int same = 0;
      if (!YAML::convert<int>::decode(body["same_as"], same) || same != level - 1) {
        return fieldError(file, body["same_as"], "same_as",
                          "must name the previous level (" + std::to_string(level - 1) + ")");
      }
      lr.same_as_previous = true;
      continue;
    }
    if (!body.IsSequence() || body.size() == 0) {
      return fieldError(file, body, "levels",
                        "level " + std::to_string(level) +
                            " must be a non-empty list of criteria or {same_as: " +
                            std::to_string(level - 1) + "}");
    }
    for (const auto& cn : body) {
      auto c = compileCriterion(file, cn, level, rules.item);
      if (!c) return c.error();
      if (!ids.insert(c->id).second) {
        return fieldError(file, cn["id"], "id", "duplicate criterion id " + c->id);
      }
      lr.criteria.push_back(std::move(*c));
    }
  }
  for (int l = 1; l <= kLevels; ++l) {
    if (!present[l - 1]) {
      return fieldError(file, levels, "levels", "level " + std::to_string(l) + " is missing");
    }
  }
  if (rules.levels[0].same_as_previous) {
    return fieldError(file, levels, "levels", "level 1 cannot be 'same_as'");
  }
  // Resolve floor_of to the position of the named criterion among the item's criteria.
  std::vector<const Criterion*> order;
  for (const auto& lr : rules.levels) {
    for (const auto& c : lr.criteria) order.push_back(&c);
  }
  for (auto& c : rules.levels[0].criteria) {
    if (c.floor_of.empty()) continue;
    for (size_t k = 0; k < order.size(); ++k) {
      if (order[k]->id == c.floor_of && order[k]->level > 1) c.floor_of_index = static_cast<int>(k);
    }
    if (c.floor_of_index < 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       file + ":" + std::to_string(c.line) + ": field 'floor_of': '" + c.floor_of +
                           "' is not a criterion of a higher level of item " + rules.item);
    }
  }
  return rules;
}

}  // namespace

Result<ItemRules> loadItemRules(const std::string& file, const Model& model) {
  return guardYaml(file, [&] { return loadItemRulesImpl(file, model); });
}

Result<RulePack> loadRulePack(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return makeError(ErrorCode::kNotFound, dir + ": rules directory not found");
  }
  auto model = loadModel((fs::path(dir) / "model.yaml").string());
  if (!model) return model.error();

  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto p = entry.path();
    if (entry.is_regular_file() && (p.extension() == ".yaml" || p.extension() == ".yml") &&
        p.filename() != "model.yaml") {
      files.push_back(p.string());
    }
  }
  if (ec) return makeError(ErrorCode::kIo, dir + ": " + ec.message());
  std::sort(files.begin(), files.end());

  RulePack pack;
  pack.model = std::move(*model);
  std::vector<ItemRules> loaded;
  for (const auto& f : files) {
    auto r = loadItemRules(f, pack.model);
    if (!r) return r.error();
    for (const auto& other : loaded) {
      if (other.item == r->item) {
        return makeError(ErrorCode::kInvalidArgument,
                         f + ": item " + r->item + " is already defined in " + other.file);
      }
    }
    loaded.push_back(std::move(*r));
  }
  for (const auto& info : pack.model.items) {
    for (auto& r : loaded) {
      if (r.item == info.id) pack.items.push_back(std::move(r));
    }
  }
  return pack;
}

}  // namespace opsm::scorer
