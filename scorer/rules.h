#pragma once

#include <array>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/duration.h"
#include "common/regex.h"
#include "common/result.h"
#include "scorer/evidence.h"
#include "scorer/model.h"

namespace opsm::scorer {

// A compiled condition over one system's evidence. See docs/rule-language.md.
struct Condition {
  enum class Kind { kAll, kAny, kAnyKnown, kNot, kCompare, kExists };
  // What a comparison looks at: the value, the length of a list/string value, or the
  // age of the evidence (now - observed_at) in seconds.
  enum class Selector { kValue, kLength, kAge };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kContains, kMatches };

  Kind kind = Kind::kAll;
  std::vector<Condition> children;  // all / any / not (one child)
  std::string key;                  // compare / exists
  int key_id = -1;                  // internKey(key), for indexed lookups
  Selector selector = Selector::kValue;
  Op op = Op::kEq;
  Value literal;                         // right-hand side; age literals are seconds
  std::shared_ptr<const Regex> re;       // matches (RE2 syntax, anchored: a full match)
  std::string source_text;               // for explanations: "monitoring.x >= 0.9"
  int line = 0;
};

const char* opName(Condition::Op op);

// The standard's three dimensions (§5): 组织人员 (people), 流程规范 (process), 工具平台 (tools).
enum class Dimension { kPeople = 0, kProcess = 1, kTools = 2 };
inline constexpr int kDimensions = 3;
const char* dimensionName(Dimension d);  // "people", "process", "tools"
std::optional<Dimension> dimensionOf(std::string_view name);

struct Criterion {
  std::string id;  // "6.1.3/L1/1"
  int level = 0;
  std::string zh;
  std::string en;
  // The dimensions the requirement belongs to: bit i set for Dimension i (`dimensions:`;
  // `rules check` wants at least one).
  unsigned dimensions = 0;
  bool hasDimension(Dimension d) const { return dimensions & (1u << static_cast<unsigned>(d)); }
  bool attestation = false;
  std::string attestation_key;  // "attestation.<id>", computed once at load
  int attestation_key_id = -1;  // internKey(attestation_key)
  // For attestation criteria: the key of a documents collector's word on it ("document.<id>":
  // true when an approved document within its review period evidences it; docs collector),
  // which counts when no attestation does.
  std::string document_key;
  int document_key_id = -1;
  // For attestation criteria: what the attestation must link to, and how long one is valid.
  std::string attestation_document;
  Duration attestation_max_age = std::chrono::hours(24 * 365);
  std::optional<Condition> when;
  std::optional<Condition> applies_to;
  // Why `when` shows the requirement (one line; `rules check` wants one on every `when`).
  std::string rationale;
  // For attestation criteria: evidence keys that bear on the requirement without proving it,
  // shown to the person attesting (and in explanations) as supporting evidence.
  std::vector<std::string> hints;
  // A level-1 statement that describes where a team starts rather than a requirement
  // ("大部分运维操作需登录机器执行"): it also passes when the criterion it names, the
  // higher-level practice that supersedes it, passes (docs/scoring.md, floors).
  std::string floor_of;
  int floor_of_index = -1;  // position of floor_of among the item's criteria in level order
  std::string file;
  int line = 0;
};

struct LevelRules {
  int level = 0;
  bool same_as_previous = false;  // "同 4 级": adds no requirement of its own
  std::vector<Criterion> criteria;
};

struct ItemRules {
  std::string item;    // "6.1.3"
  std::string domain;  // "6.1"
  std::string file;
  // Whether the item applies to a system at all (its subject: a cache, a database). When it
  // fails the item is not applicable: N/A, left out of the domain's aggregate. When it is
  // unknown (a profile attribute nobody declared) the item is scored as usual.
  std::optional<Condition> applies_to;
  std::array<LevelRules, kLevels> levels;
};

struct RulePack {
  Model model;
  std::vector<ItemRules> items;  // in the model's order
  const ItemRules* findItem(const std::string& id) const;
};

// The criterion `id` ("6.7.4/L1/2") of the pack, or null.
const Criterion* findCriterion(const RulePack& pack, const std::string& id);

// The evidence key an attestation of criterion `id` is stored under.
std::string attestationKey(const std::string& criterion_id);
// The evidence key of the documents evidencing criterion `id` (collectors/docs).
std::string documentKey(const std::string& criterion_id);

// Compiles one condition node. Errors name file, line and field.
Result<Condition> compileCondition(const std::string& file, const YAML::Node& node);

// Compiles one rule file against the model.
Result<ItemRules> loadItemRules(const std::string& file, const Model& model);

// Loads `dir`/model.yaml and every other *.yaml file in `dir` as an item's rules.
// Items without a rule file are simply not scored.
Result<RulePack> loadRulePack(const std::string& dir);

}  // namespace opsm::scorer
