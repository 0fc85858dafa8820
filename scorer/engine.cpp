#include "scorer/engine.h"

#include "scorer/operators.h"

#include "scorer/domain.h"

#include <cmath>

#include "scorer/check.h"

namespace opsm::scorer {

using Op = Condition::Op;
using Kind = Condition::Kind;
using Selector = Condition::Selector;

const char* triName(Tri t) {
  switch (t) {
    case Tri::kPass:
      return "pass";
    case Tri::kFail:
      return "fail";
    case Tri::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* criterionStateName(CriterionState s) {
  switch (s) {
    case CriterionState::kPass:
      return "pass";
    case CriterionState::kFail:
      return "fail";
    case CriterionState::kUnknown:
      return "unknown";
    case CriterionState::kNotApplicable:
      return "not_applicable";
  }
  return "unknown";
}

namespace {

template <typename T>
Tri ordered(Op op, const T& a, const T& b) {
  bool r = false;
  switch (op) {
    case Op::kEq:
      r = a == b;
      break;
    case Op::kNe:
      r = a != b;
      break;
    case Op::kLt:
      r = a < b;
      break;
    case Op::kLe:
      r = a <= b;
      break;
    case Op::kGt:
      r = a > b;
      break;
    case Op::kGe:
      r = a >= b;
      break;
    default:
      return Tri::kUnknown;
  }
  return r ? Tri::kPass : Tri::kFail;
}

Tri compareValue(const Condition& c, const Value& v, std::string* mismatch) {
  const Operator& op = operatorOf(c.op);
  std::string needs;
  if (!takes(op, v.type(), c.literal, &needs)) {
    *mismatch = std::string("evidence is a ") + valueTypeName(v.type()) + ", operator '" +
                op.name + "' needs " + needs;
    return Tri::kUnknown;
  }
  if (op.ordering && std::isnan(v.asNumber())) {
    *mismatch = "value is NaN";
    return Tri::kUnknown;
  }
  return op.holds(c, v) ? Tri::kPass : Tri::kFail;
}

// The evidence of `key`: through the index when the context has one and the key an id,
// else through the map.
const Evidence* lookup(const EvalContext& ctx, const std::string& key, int id) {
  if (ctx.index && id >= 0) {
    return static_cast<size_t>(id) < ctx.index->size() ? (*ctx.index)[id].evidence : nullptr;
  }
  auto it = ctx.evidence.find(key);
  return it == ctx.evidence.end() ? nullptr : &it->second;
}

Tri evalCompare(const Condition& c, const EvalContext& ctx, std::string* why) {
  const Evidence* found = lookup(ctx, c.key, c.key_id);
  if (!found) {
    if (why) {
      *why = "no evidence " + c.key + " (needed for " + c.source_text + ")";
      if (ctx.unknown_to) {
        // The key itself, or the namespace it falls under (file.*, plugin.*).
        auto u = ctx.unknown_to->find(c.key);
        for (size_t dot = c.key.rfind('.'); u == ctx.unknown_to->end() && dot != std::string::npos;
             dot = dot ? c.key.rfind('.', dot - 1) : std::string::npos) {
          u = ctx.unknown_to->find(c.key.substr(0, dot) + ".*");
        }
        if (u != ctx.unknown_to->end()) *why += ": " + u->second;
      }
    }
    return Tri::kUnknown;
  }
  const Evidence& e = *found;
  if (e.expired(ctx.now)) {
    if (why) {
      *why = "evidence " + c.key + " expired at " + std::to_string(static_cast<long long>(
                                                        toSeconds(e.expires_at))) +
             " (needed for " + c.source_text + ")";
    }
    return Tri::kUnknown;
  }
  Tri result = Tri::kUnknown;
  std::string mismatch;
  std::string observed;
  switch (c.selector) {
    case Selector::kValue:
      result = compareValue(c, e.value, &mismatch);
      if (why) observed = c.key + " = " + e.value.toString() + provenanceText(e);
      break;
    case Selector::kLength: {
      double n = 0;
      if (e.value.isList()) {
        n = static_cast<double>(e.value.asList().size());
      } else if (e.value.isString()) {
        n = static_cast<double>(e.value.asString().size());
      } else {
        mismatch = std::string("len() needs a list or string, evidence is a ") +
                   valueTypeName(e.value.type());
        break;
      }
      result = ordered(c.op, n, c.literal.asNumber());
      if (why) observed = "len(" + c.key + ") = " + Value(n).toString();
      break;
    }
    case Selector::kAge: {
      double age = toSeconds(std::chrono::duration_cast<Duration>(ctx.now - e.observed_at));
      result = ordered(c.op, age, c.literal.asNumber());
      if (why) {
        observed = "age(" + c.key + ") = " + formatDuration(Duration(static_cast<long long>(age * 1000)));
      }
      break;
    }
  }
  if (why) {
    if (!mismatch.empty()) {
      *why = c.key + ": " + mismatch + " (in " + c.source_text + ")";
    } else {
      *why = observed + (result == Tri::kPass ? ", satisfies " : ", want ") + c.source_text;
    }
  }
  return result;
}

void appendReason(std::string* why, const std::string& part) {
  if (!why || part.empty()) return;
  if (!why->empty()) *why += "; ";
  *why += part;
}

}  // namespace

Tri evaluate(const Condition& c, const EvalContext& ctx, std::string* why) {
  switch (c.kind) {
    case Kind::kCompare:
      return evalCompare(c, ctx, why);
    case Kind::kExists: {
      const Evidence* found = lookup(ctx, c.key, c.key_id);
      if (!found) {
        if (why) *why = "no evidence " + c.key + ", want " + c.source_text;
        return Tri::kFail;
      }
      if (found->expired(ctx.now)) {
        if (why) *why = "evidence " + c.key + " expired, cannot tell whether it still exists";
        return Tri::kUnknown;
      }
      if (why) *why = "evidence " + c.key + " present";
      return Tri::kPass;
    }
    case Kind::kNot: {
      std::string inner;
      Tri t = evaluate(c.children.front(), ctx, why ? &inner : nullptr);
      if (why) *why = "not (" + inner + ")";
      if (t == Tri::kUnknown) return Tri::kUnknown;
      return t == Tri::kPass ? Tri::kFail : Tri::kPass;
    }
    case Kind::kAll:
    case Kind::kAny:
    case Kind::kAnyKnown: {
      // Kleene logic. The explanation keeps the reasons of the children that decided it.
      const Tri decisive = c.kind == Kind::kAll ? Tri::kFail : Tri::kPass;
      std::string decisive_why, unknown_why, all_why, known_why;
      bool any_decisive = false, any_unknown = false;
      size_t known = 0;
      for (const auto& child : c.children) {
        std::string r;
        Tri t = evaluate(child, ctx, why ? &r : nullptr);
        if (t != Tri::kUnknown) {
          ++known;
          appendReason(why ? &known_why : nullptr, r);
        }
        appendReason(why ? &all_why : nullptr, r);
        if (t == decisive) {
          any_decisive = true;
          appendReason(why ? &decisive_why : nullptr, r);
          if (!why) break;
        } else if (t == Tri::kUnknown) {
          any_unknown = true;
          appendReason(why ? &unknown_why : nullptr, r);
        }
      }
      // any_known: alternatives of which a system usually has one (restic or borg): the
      // ones without evidence do not hold the answer back. Unknown only if all are unknown.
      bool all_unknown = known == 0;
      Tri result = any_decisive ? decisive
                   : (c.kind == Kind::kAnyKnown ? (all_unknown ? Tri::kUnknown : Tri::kFail)
                      : any_unknown             ? Tri::kUnknown
                                                : (c.kind == Kind::kAll ? Tri::kPass : Tri::kFail));
      if (why) {
        *why = any_decisive                  ? decisive_why
               : result == Tri::kUnknown     ? unknown_why
               : c.kind == Kind::kAnyKnown   ? known_why
                                             : all_why;
      }
      return result;
    }
  }
  return Tri::kUnknown;
}

std::string hintText(const Criterion& criterion, const EvalContext& ctx) {
  std::string out = "supporting evidence for the attester (not proof):";
  for (size_t i = 0; i < criterion.hints.size(); ++i) {
    const std::string& key = criterion.hints[i];
    const Evidence* e = lookup(ctx, key, -1);
    out += std::string(i ? "," : "") + " " + key + " = ";
    if (!e) {
      out += "none";
    } else {
      out += e->value.toString() + " (" + e->source.collector +
             (e->source.via.empty() ? "" : " via " + e->source.via) +
             (e->source.merged.empty() ? "" : "; " + e->source.merged) +
             (e->expired(ctx.now) ? ", expired" : "") + ")";
    }
  }
  return out;
}

std::vector<std::string> keysOf(const Criterion& criterion) {
  std::vector<std::string> out;
  if (criterion.attestation) {
    out.push_back(criterion.attestation_key.empty() ? attestationKey(criterion.id)
                                                    : criterion.attestation_key);
    out.push_back(criterion.document_key.empty() ? documentKey(criterion.id)
                                                 : criterion.document_key);
  }
  if (criterion.when) conditionKeys(*criterion.when, &out);
  if (criterion.applies_to) conditionKeys(*criterion.applies_to, &out);
  return out;
}

CriterionResult evaluateCriterion(const Criterion& criterion, const EvalContext& ctx,
                                  bool explain) {
  CriterionResult r;
  r.criterion = &criterion;
  if (criterion.applies_to) {
    std::string why;
    Tri t = evaluate(*criterion.applies_to, ctx, explain ? &why : nullptr);
    if (t == Tri::kFail) {
      r.state = CriterionState::kNotApplicable;
      if (explain) r.reason = "not applicable: " + why;
      return r;
    }
    if (t == Tri::kUnknown) {
      r.state = CriterionState::kUnknown;
      if (explain) r.reason = "cannot tell whether it applies: " + why;
      return r;
    }
  }
  // Evidenced or attested (both `when` and `attestation`): the evidence, when it shows the
  // requirement, decides; otherwise a person's attestation does.
  std::string evidence_why;
  if (criterion.attestation && criterion.when) {
    Tri t = evaluate(*criterion.when, ctx, explain ? &evidence_why : nullptr);
    if (t == Tri::kPass) {
      r.state = CriterionState::kPass;
      if (explain) r.reason = "evidenced: " + evidence_why;
      return r;
    }
  }
  if (criterion.attestation && !explain && ctx.index && criterion.attestation_key_id >= 0) {
    // Fast path: the compact index holds all an attestation criterion needs.
    const size_t id = static_cast<size_t>(criterion.attestation_key_id);
    const IndexEntry* slot = id < ctx.index->size() ? &(*ctx.index)[id] : nullptr;
    const long long now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(ctx.now.time_since_epoch()).count();
    if (!slot || !slot->evidence || now_ns >= slot->expires_ns) {
      // No attestation in force: an approved document within its review period counts.
      const IndexEntry* doc = nullptr;
      if (criterion.document_key_id >= 0) {
        const size_t d = static_cast<size_t>(criterion.document_key_id);
        doc = d < ctx.index->size() ? &(*ctx.index)[d] : nullptr;
      }
      r.state = doc && doc->evidence && now_ns < doc->expires_ns && doc->is_true
                    ? CriterionState::kPass
                    : CriterionState::kUnknown;
    } else {
      r.state = slot->is_true ? CriterionState::kPass : CriterionState::kFail;
    }
    return r;
  }
  if (criterion.attestation) {
    // (Criteria compiled by the rule loader carry their key; hand-built ones may not.)
    const Evidence* a =
        criterion.attestation_key.empty()
            ? lookup(ctx, attestationKey(criterion.id), -1)
            : lookup(ctx, criterion.attestation_key, criterion.attestation_key_id);
    // No attestation in force: an approved document within its review period counts.
    const Evidence* doc =
        !a || a->expired(ctx.now)
            ? (criterion.document_key.empty()
                   ? lookup(ctx, documentKey(criterion.id), -1)
                   : lookup(ctx, criterion.document_key, criterion.document_key_id))
            : nullptr;
    if (doc && !doc->expired(ctx.now) && doc->value.isBool() && doc->value.asBool()) {
      r.state = CriterionState::kPass;
      if (explain) {
        r.reason = "documented: " + doc->source.locator + " (" + doc->source.collector +
                   "; approved, within its review period)";
      }
    } else if (!a) {
      r.state = CriterionState::kUnknown;
      if (explain) r.reason = "needs an attestation; none on file";
    } else if (a->expired(ctx.now)) {
      r.state = CriterionState::kUnknown;
      if (explain) {
        r.reason = "attestation expired at " + formatTime(a->expires_at) + ": " + a->source.locator;
      }
    } else if (a->value.isBool() && a->value.asBool()) {
      r.state = CriterionState::kPass;
      if (explain) {
        r.reason = "attested until " + formatTime(a->expires_at) + ": " + a->source.locator;
      }
    } else {
      r.state = CriterionState::kFail;
      if (explain) r.reason = "attested as not met: " + a->source.locator;
    }
    if (explain && doc && r.state != CriterionState::kPass) {
      r.reason += "; its document does not count (" +
                  std::string(doc->expired(ctx.now) ? "no longer reported" : "not approved by someone other than its owner, or past its review date") +
                  "): " + doc->source.locator;
    }
    if (explain && criterion.when) r.reason += "; the evidence does not show it: " + evidence_why;
    if (explain && !criterion.hints.empty()) r.reason += "; " + hintText(criterion, ctx);
    return r;
  }
  Tri t = evaluate(*criterion.when, ctx, explain ? &r.reason : nullptr);
  r.state = t == Tri::kPass   ? CriterionState::kPass
            : t == Tri::kFail ? CriterionState::kFail
                              : CriterionState::kUnknown;
  return r;
}

}  // namespace opsm::scorer
